"""Video models as `keras.applications`-style constructors."""
