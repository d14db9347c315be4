"""`PyAVDecoder`: seek to the keyframe before a clip and decode forward with PyAV.

- Wanted frames are decoded in ascending order; a new seek is made to the keyframe
  at or before a wanted frame whenever that keyframe lies after the previous wanted
  frame, otherwise decoding continues forward, also from where the previous request
  stopped. Frames are identified by their timestamp, so frames after a seek are
  exactly the frames of a sequential decode; if timestamps come out of order
  (AVI's packed B-frames) frames are counted from the start instead.
- Frames that are not wanted and that no other frame references are not decoded at
  all (FFmpeg `skip_frame="NONREF"`, set per packet), and only wanted frames are
  converted to RGB.
- A packet the demuxer flags as corrupt (cut short: a truncated file) ends the
  stream: the decoder is flushed instead of fed it, as the index scan assumes.
- Damaged data: when the decoder flags a frame corrupt (`VideoFrame.is_corrupt`,
  damage concealed by guessing from other frames) in the GOP of a wanted frame
  (before it, or the forward reference of a B-frame), what concealment produces
  depends on which frames were decoded before, so seeking and skipping would make
  the pixels depend on the access pattern. The whole stream is then decoded once:
  if its frames come out with the indexed timestamps in order, the index is
  marked `damaged` and every read decodes from the start without seeks or skipped
  frames (the frames of a sequential decode, whatever the request); otherwise the
  frames cannot be numbered consistently and the file is a `CorruptVideoError`.
  Both verdicts are cached with the index.
- Reads any video stream and any codec FFmpeg has (AV1 included); applies rotation
  metadata; 10-bit sources come out as uint8 RGB.
"""

import bisect
import collections
import dataclasses

from keras_video.data.errors import CorruptVideoError
from keras_video.data.video.decoder import Decoder, rotate
from keras_video.data.video.index import import_av, open_container


class PyAVDecoder(Decoder):
    """Exact seeking decoder on PyAV (FFmpeg); see the module docstring."""

    name = "pyav"
    auto_rank = 0

    def __init__(self, path, index, num_threads=1):
        super().__init__(path, index, num_threads)
        self._container = None
        self._cursor = None  # see `_DecodeCursor`
        self._rgb_reformatter = None

    def adopt(self, container):
        self.close()
        self._container = container

    def close(self):
        container = self._container
        self._container = None
        self._cursor = None
        if container is not None:
            container.close()

    def decode(self, wanted, store):
        try:
            self._decode_or_go_sequential(wanted, store)
        except _TimestampsUnreliable:
            self.index = dataclasses.replace(self.index, pts_reliable=False)
            self.close()
            self._decode(wanted, store)

    # ------------------------------------------------------------- internals

    def _open(self):
        if self._container is None:
            container = open_container(self.path)
            codec_context = container.streams[self.index.metadata.stream].codec_context
            codec_context.thread_count = self.num_threads
            if self.num_threads != 1:
                codec_context.thread_type = "AUTO"
            self._container = container
        return self._container, self._container.streams[self.index.metadata.stream]

    @property
    def _sequential(self):
        """Damaged stream: decode from the start, no seeks, no skipped frames."""
        return self.index.damaged

    def _decode_or_go_sequential(self, wanted, store):
        if self.index.damage_error:
            raise CorruptVideoError(self.index.damage_error, self.path)
        try:
            self._decode(wanted, store)
        except _Damaged:
            self.close()
            self.index = self._damage_verdict()
            if self.index.damage_error:
                raise CorruptVideoError(self.index.damage_error, self.path) from None
            self._decode(wanted, store)

    def _damage_verdict(self):
        """The index marked `damaged` if a full decode gives the indexed
        timestamps in order, else carrying the `damage_error`."""
        av = import_av()
        container, stream = self._open()
        out = []
        try:
            for frame in container.decode(stream):
                out.append(frame.pts)
        except av.FFmpegError:
            pass  # the frames before the failure still count
        finally:
            self.close()
        expected = self.index.pts.tolist()
        if out == expected[: len(out)] and len(out) == len(expected):
            return dataclasses.replace(self.index, damaged=True)
        return dataclasses.replace(
            self.index,
            damage_error=(
                f"{self.path} is corrupt: damaged frames, and a full decode gives "
                f"{len(out)} frames not in the order of the {len(expected)} indexed "
                "timestamps, so frames cannot be numbered consistently."
            ),
        )

    def _decode(self, wanted, store):
        if not self.index.pts_reliable:
            self._decode_counting(wanted, store)
            return
        # Segments: one seek each, to the keyframe at or before their first frame.
        segments = []
        for frame_index in wanted:
            keyframe = self.index.keyframe_at_or_before(frame_index)
            if segments and keyframe <= segments[-1][1][-1]:
                segments[-1][1].append(frame_index)
            else:
                segments.append((keyframe, [frame_index]))
        for keyframe, frames in segments:
            self._decode_segment(keyframe, frames, store)

    def _decode_segment(self, keyframe, frames, store):
        """Decodes forward until all of `frames` are out: from where the previous
        request stopped when no keyframe lies in between, else after a seek to
        `keyframe` (or an earlier one if the seek lands late)."""
        cursor = self._cursor
        pts = self.index.pts
        if (
            cursor is not None
            and cursor.last_index < frames[0]
            and (keyframe <= cursor.last_index + 1 or self._sequential)
            and not cursor.skipped.intersection(pts[frames].tolist())
        ):
            self._decode_with(cursor, frames, store)
            return
        keyframes = self.index.keyframes.tolist()
        position = -1 if self._sequential else bisect.bisect_left(keyframes, keyframe)
        while True:
            # position -1: reopen the file and decode from its very start.
            cursor = self._seek(keyframes[max(position, 0)], position < 0)
            try:
                self._decode_with(cursor, frames, store)
                return
            except _SeekLandedLate:
                if position < 0:
                    raise CorruptVideoError(
                        f"{self.path}: frame {frames[0]} did not decode (decoding "
                        "from the start of the stream).",
                        self.path,
                    ) from None
                position -= 1

    def _seek(self, keyframe, from_start):
        """A fresh `_DecodeCursor` positioned at `keyframe` (or the stream start)."""
        if from_start:
            self.close()  # a fresh open decodes from the start
        container, stream = self._open()
        if not from_start:
            container.seek(
                int(self.index.pts[keyframe]),
                stream=stream,
                backward=True,
                any_frame=False,
            )
        self._cursor = _DecodeCursor(container.demux(stream), stream.codec_context)
        return self._cursor

    def _decode_with(self, cursor, frames, store):
        """Pulls frames from `cursor` until all of `frames` (sorted) are stored.

        Frames are matched by timestamp: frame `frames[k]` is the decoded frame
        whose timestamp is `pts[frames[k]]`. Timestamps must come out strictly
        increasing, and no wanted one may be passed over; otherwise the container's
        timestamps are not the decoder's order and the caller counts frames instead.
        """
        av = import_av()
        index = self.index
        rotation = index.metadata.rotation
        wanted_pts = index.pts[frames].tolist()
        wanted = set(wanted_pts)
        to_rgb = self._reformatter().reformat
        next_wanted = 0
        target = wanted_pts[0]
        self._cursor = None  # restored below only if the cursor stays consistent
        try:
            while True:
                pending = cursor.pending
                while pending:
                    timestamp = pending[0].pts
                    if timestamp is None or timestamp <= cursor.last_pts:
                        raise _TimestampsUnreliable()
                    if cursor.last_index < 0 and timestamp > wanted_pts[0]:
                        raise _SeekLandedLate()
                    frame = pending.popleft()
                    cursor.last_pts = timestamp
                    cursor.last_index = 0  # any frame out: no longer fresh
                    cursor.damaged = _damaged_since_keyframe(frame, cursor.damaged)
                    if timestamp < target:
                        continue
                    if timestamp > target:
                        # A wanted frame was decoded but did not come out under its
                        # timestamp: the labels are out of order (or the decoder
                        # dropped it). Count frames from the start instead; that
                        # raises if the stream really is short.
                        raise _TimestampsUnreliable()
                    if cursor.damaged and not self._sequential:
                        raise _Damaged()
                    image = to_rgb(frame, format="rgb24").to_ndarray()
                    store(frames[next_wanted], rotate(image, rotation))
                    next_wanted += 1
                    if next_wanted == len(frames):
                        if _is_b_frame(frame) and not self._sequential:
                            self._check_forward_reference(cursor, wanted)
                        cursor.last_index = frames[-1]
                        cursor.skipped = {t for t in cursor.skipped if t > timestamp}
                        self._cursor = cursor
                        return
                    target = wanted_pts[next_wanted]
                if not self._feed(cursor, wanted):
                    break
        except av.FFmpegError as e:
            self.close()
            raise CorruptVideoError(
                f"{self.path} is corrupt: decoding failed before frame "
                f"{frames[next_wanted]} ({e}).",
                self.path,
            ) from e
        self.close()
        raise CorruptVideoError(
            f"{self.path}: the stream ended before frame {frames[next_wanted]} "
            f"(index has {index.metadata.num_frames} frames); the file is truncated "
            "or corrupt.",
            self.path,
        )

    def _feed(self, cursor, wanted):
        """Decodes the next packet into `cursor.pending`; False at the end.

        Packets of frames not in `wanted` (timestamps) are decoded only if other
        frames reference them (`skip_frame="NONREF"`).
        """
        packet = next(cursor.packets, None)
        if packet is None:
            return False
        if packet.is_corrupt:  # cut short (a truncated file): flush
            cursor.packets = iter(())
            packet = None
        skip = False
        if packet is not None and packet.size and not self._sequential:
            timestamp = packet.pts if packet.pts is not None else packet.dts
            if timestamp not in wanted:
                skip = True
                cursor.skipped.add(timestamp)
        if skip != cursor.skipping:
            cursor.codec.skip_frame = "NONREF" if skip else "DEFAULT"
            cursor.skipping = skip
        cursor.pending.extend(cursor.codec.decode(packet))
        return True

    def _check_forward_reference(self, cursor, wanted):
        """A B-frame also references the next non-B frame, decoded before it but
        output after it: decode until that frame is out (it stays pending for the
        next request) and treat the stored frames as damaged if it is."""
        while True:
            for frame in cursor.pending:
                if frame.is_corrupt:
                    raise _Damaged()
                if not _is_b_frame(frame):
                    return
            if not self._feed(cursor, wanted):
                return

    def _reformatter(self):
        """One `VideoReformatter` per decoder: its conversion context is reused
        (a fresh one per frame, as `frame.to_ndarray` makes, costs more than the
        conversion itself)."""
        if self._rgb_reformatter is None:
            self._rgb_reformatter = import_av().video.reformatter.VideoReformatter()
        return self._rgb_reformatter

    def _decode_counting(self, wanted, store):
        """Decodes from the start, numbering frames in output order (no seeks)."""
        av = import_av()
        self.close()
        container, stream = self._open()
        rotation = self.index.metadata.rotation
        to_rgb = self._reformatter().reformat
        position = 0
        next_wanted = 0
        try:
            for frame in container.decode(stream):
                if position == wanted[next_wanted]:
                    image = to_rgb(frame, format="rgb24").to_ndarray()
                    store(position, rotate(image, rotation))
                    next_wanted += 1
                    if next_wanted == len(wanted):
                        return
                position += 1
        except av.FFmpegError as e:
            raise CorruptVideoError(
                f"{self.path} is corrupt: decoding failed at frame {position} ({e}).",
                self.path,
            ) from e
        finally:
            self.close()
        raise CorruptVideoError(
            f"{self.path}: the stream ended after {position} frames, before frame "
            f"{wanted[next_wanted]}; the file is truncated or corrupt.",
            self.path,
        )


def _is_b_frame(frame):
    return int(frame.pict_type) == 3  # AV_PICTURE_TYPE_B


def _damaged_since_keyframe(frame, damaged):
    """Whether a frame flagged corrupt came out since the last clean keyframe."""
    if frame.is_corrupt:
        return True
    return damaged and not frame.key_frame


class _DecodeCursor:
    """Where a PyAV decode pass stands, kept between requests to read forward.

    Holds at most the frames the decoder already returned (its reorder depth).
    """

    def __init__(self, packets, codec):
        self.packets = packets  # demux iterator of the stream
        self.codec = codec
        self.pending = collections.deque()  # decoded, not yet looked at
        self.last_pts = float("-inf")  # timestamp of the last frame looked at
        self.last_index = -1  # -1: nothing out yet; else last wanted frame stored
        self.skipped = set()  # timestamps after last_pts whose packet was skipped
        self.skipping = None  # skip_frame is "NONREF" (True) or "DEFAULT" (False)
        self.damaged = False  # a corrupt frame came out since the last keyframe


class _TimestampsUnreliable(Exception):
    """Decoded frames do not carry the timestamps the packets promised."""


class _Damaged(Exception):
    """A frame flagged corrupt came out before a wanted frame of its GOP."""


class _SeekLandedLate(Exception):
    """The first frame after a seek comes after the first wanted frame."""
