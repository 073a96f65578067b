"""Re-encode an uploaded image from its pixels alone, so nothing but pixels survives.

Phone photos carry the owner's GPS position, and hostile images carry decompression
bombs, parser traps and appended payloads (a ZIP after a JPEG). Only allow-listed
formats are decoded, sizes are checked before any pixel is, and the output is built
from raw pixels, so no EXIF, XMP, IPTC, comment, ICC profile or trailing byte of the
source can reach it.

This is the only module that imports Pillow. It runs in the sandboxed worker: it
changes Pillow's process-wide limits for the duration of a call, which is safe there
because the worker runs one job at a time.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from PIL import ExifTags, Image, ImageFile, PngImagePlugin, UnidentifiedImageError, features

from ..exceptions import ImageError, IngestError, ResourceLimitError, TypeNotAllowed
from .limits import Limits

__all__ = ["ALLOWED_FORMATS", "ImageResult", "open_clean_image", "sanitize_image"]


def _heif_module() -> ModuleType | None:
    """pillow_heif if it imports; HEIC is then allowed, otherwise refused by name."""
    try:
        import pillow_heif
    except ImportError:
        return None
    return pillow_heif


#: Pillow format names we decode; Pillow is never allowed to try any other decoder.
ALLOWED_FORMATS: frozenset[str] = frozenset(
    {"PNG", "JPEG", "WEBP", "GIF"}
    | ({"AVIF"} if features.check_module("avif") else set())
    | ({"HEIF"} if _heif_module() is not None else set())
)

# Pillow's JPEG opener returns "MPO" for a JPEG that holds several pictures (phones
# store previews and gain maps that way); it is the same decoder, so it is accepted.
_JPEG_FAMILY = frozenset({"JPEG", "MPO"})
_OPEN_ORDER = ("PNG", "JPEG", "WEBP", "GIF", "AVIF", "HEIF")
_FORMAT_WORDS = {
    "PNG": "PNG",
    "JPEG": "JPEG",
    "WEBP": "WebP",
    "GIF": "GIF",
    "AVIF": "AVIF",
    "HEIF": "HEIC/HEIF",
}

# Only to name what we refuse; recognising these never makes Pillow decode them.
_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"\x00\x00\x02\x00", "CUR"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"8BPS", "Photoshop (PSD)"),
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "PostScript/EPS"),
    (b"%PDF", "PDF"),
    (b"icns", "ICNS"),
    (b"qoif", "QOI"),
    (b"DDS ", "DDS"),
    (b"gimp xcf", "GIMP XCF"),
    (b"\xffO\xffQ", "JPEG 2000"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (b"\xff\n", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
)
_FTYP_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    **dict.fromkeys((b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"), "HEIF"),
    **dict.fromkeys((b"mif1", b"msf1"), "HEIF"),
}

_JPEG_MAX_SIDE = 65_500  # libjpeg cannot encode a longer side
_JPEG_QUALITY = 90
_THUMBNAIL_QUALITY = 85
# EXIF tags never copied even when the person keeps EXIF: pointers into the old file,
# blobs that can hold a position (XMP, IPTC, maker notes) or a profile, and the
# orientation, which is already applied to the pixels.
_EXIF_NEVER_KEPT = frozenset(
    {
        ExifTags.Base.Orientation,
        ExifTags.Base.ExifOffset,
        ExifTags.Base.GPSInfo,
        ExifTags.Base.SubIFDs,
        ExifTags.Base.XMLPacket,
        ExifTags.Base.IPTCNAA,
        ExifTags.Base.ImageResources,
        ExifTags.Base.InterColorProfile,
        ExifTags.Base.JpegIFOffset,
        ExifTags.Base.JpegIFByteCount,
        ExifTags.Base.MakerNote,
        ExifTags.IFD.Interop,
    }
)
_EXIF_MAX_BYTES = 65_000  # what fits in one JPEG APP1 segment
_GPS_POSITION_TAGS = (ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLongitude)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# PNG text keys that are really another kind of metadata (ImageMagick, Adobe).
_PNG_TEXT_KINDS = {
    "XML:com.adobe.xmp": "xmp",
    "Raw profile type exif": "exif",
    "Raw profile type APP1": "exif",
    "Raw profile type iptc": "iptc",
    "Raw profile type 8bim": "iptc",
    "Raw profile type icc": "icc_profile",
}
_METADATA_WORDS = {
    "exif": "EXIF",
    "xmp": "XMP",
    "iptc": "IPTC",
    "icc_profile": "ICC colour profile",
    "comment": "comments",
}
_TIMES = "\N{MULTIPLICATION SIGN}"
_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


@dataclass(frozen=True)
class ImageResult:
    """What was written, facts for the upload record, and ``(code, message)`` warnings."""

    path: Path
    thumbnail: Path | None
    metadata: dict[str, Any]
    warnings: tuple[tuple[str, str], ...]


@dataclass
class _Source:
    """What the source carried, gathered frame by frame; values are never recorded."""

    format: str
    frames: int
    kinds: set[str] = field(default_factory=set)
    gps_ifd: bool = False
    gps_position: bool = False
    orientation: int = 1
    kept_exif: bytes | None = None


@dataclass
class _Decoded:
    source: _Source
    image: Image.Image
    orientation_applied: bool


def sanitize_image(src: Path, dst_stem: Path, limits: Limits) -> ImageResult:
    """Check ``src`` and write a clean re-encoding next to ``dst_stem``; refuse anything else.

    The output is ``dst_stem`` + ``.jpg`` (JPEG, HEIF and AVIF without alpha) or
    ``.png`` (everything else), rebuilt from the first frame's pixels after applying
    the EXIF orientation, so no metadata or appended bytes survive. With
    ``limits.thumbnails`` a ``dst_stem`` + ``.thumb.jpg`` thumbnail is written too.

    With ``limits.strip_exif`` False the source's EXIF is copied into the output
    (pixels are still rebuilt), minus the GPS IFD and anything that could carry a
    position or point into the old file: XMP and IPTC blobs, maker notes, the
    embedded preview and the orientation (already applied).

    Raises
    ------
    TypeNotAllowed
        The file is an image format outside :data:`ALLOWED_FORMATS`.
    ImageError
        ``image_too_many_pixels`` above ``limits.max_image_pixels`` (any frame), or
        ``image_invalid`` when the file is damaged, truncated, has too many frames
        or is not an image at all.
    ResourceLimitError
        Decoding ran out of memory.

    Outputs written before a failure are deleted. A missing ``src`` or a failing disk
    raises ``OSError``: those are faults of the caller, not of the upload.
    """
    written: list[Path] = []
    try:
        with src.open("rb") as fh, _pillow_guards(limits):
            decoded = _decode(fh, limits)
            return _write_outputs(decoded, dst_stem, limits, written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


# -- decoding ----------------------------------------------------------------------


@contextmanager
def _pillow_guards(limits: Limits) -> Iterator[None]:
    """Pillow's bomb limit at ours, its bomb warning an error, truncated data refused."""
    saved = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS = limits.max_image_pixels
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            # Pillow reports metadata it skipped as damaged (EXIF, APNG, MPO headers)
            # with UserWarning; that metadata is dropped anyway.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _decode(fh: IO[bytes], limits: Limits) -> _Decoded:
    """Verify, then decode every frame one at a time, keeping a clean copy of the first."""
    with _refusals(limits):
        with _open(fh) as probe:
            probe.verify()
        with _open(fh) as image:
            source = _Source(format=str(image.format), frames=getattr(image, "n_frames", 1))
            _check_frame_count(source.frames, limits)
            _check_pixels(image.size, limits)
            image.load()
            _note_first_frame(image, source, keep_exif=not limits.strip_exif)
            clean, applied = _pixels_only(image, source.orientation)
            for index in range(1, source.frames):
                image.seek(index)
                _check_pixels(image.size, limits)
                image.load()
                source.kinds |= _metadata_kinds(image)
    return _Decoded(source, clean, applied)


@contextmanager
def _refusals(limits: Limits) -> Iterator[None]:
    """Whatever a decoder raises on hostile bytes becomes a refusal, never a crash.

    Pillow and libheif raise a wide, undocumented range of exceptions on malformed
    input (``OSError``, ``SyntaxError``, ``struct.error``, ``EOFError``, ``KeyError``,
    ``RuntimeError``...), so everything short of our own errors is mapped here.
    """
    try:
        yield
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _pillow_bomb(exc, limits) from exc
    except MemoryError as exc:
        raise ResourceLimitError(
            "Decoding the image needed more memory than the sandbox allows."
        ) from exc
    except Exception as exc:
        raise ImageError(
            "The image is damaged or truncated and could not be decoded completely.",
            code="image_invalid",
        ) from exc


def _open(fh: IO[bytes]) -> ImageFile.ImageFile:
    """Open with the allow-listed decoders only; name the format when refusing."""
    try:
        image = Image.open(fh, formats=_formats_to_try())
    except UnidentifiedImageError as exc:
        fh.seek(0)
        raise _unidentified(fh.read(32)) from exc
    if image.format not in ALLOWED_FORMATS | _JPEG_FAMILY:  # defence in depth
        image.close()
        raise _not_allowed(str(image.format))
    return image


def _formats_to_try() -> list[str]:
    if "HEIF" in ALLOWED_FORMATS:
        _register_heif()
    return [name for name in _OPEN_ORDER if name in ALLOWED_FORMATS]


@functools.cache
def _register_heif() -> None:
    """Register the HEIF opener once, without the thumbnails, depth and auxiliary images
    we never use (less hostile structure parsed)."""
    module = _heif_module()
    assert module is not None  # only called when HEIF is allowed
    module.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _unidentified(head: bytes) -> IngestError:
    name = _format_by_signature(head)
    if name is not None and name not in ALLOWED_FORMATS:
        return _not_allowed(name)
    return ImageError(f"The file is not a readable {_allowed_words()} image.", code="image_invalid")


def _format_by_signature(head: bytes) -> str | None:
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12])
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    return None


def _not_allowed(name: str) -> TypeNotAllowed:
    if name == "HEIF":
        return TypeNotAllowed(
            "HEIC/HEIF photos cannot be read here because the pillow-heif package is not "
            f"installed; please upload a {_allowed_words()} image instead."
        )
    words = _FORMAT_WORDS.get(name, name)
    return TypeNotAllowed(
        f"The file is in {words} format; only {_allowed_words()} images are accepted."
    )


def _allowed_words() -> str:
    return _listed([_FORMAT_WORDS[name] for name in _OPEN_ORDER if name in ALLOWED_FORMATS], "or")


def _listed(words: list[str], last: str = "and") -> str:
    return f"{', '.join(words[:-1])} {last} {words[-1]}" if len(words) > 1 else words[0]


def _check_frame_count(frames: int, limits: Limits) -> None:
    if frames > limits.max_image_frames:
        raise ImageError(
            f"The image has {frames:,} frames; the limit is {limits.max_image_frames:,}.",
            code="image_invalid",
        )


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    """Our own check before every decode; Pillow's only errors above twice its limit."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageError(
            f"The image is {width:,} {_TIMES} {height:,} pixels, which holds no picture.",
            code="image_invalid",
        )
    if width * height > limits.max_image_pixels:
        raise ImageError(
            f"The image is {width:,} {_TIMES} {height:,} = {width * height:,} pixels; "
            f"the limit is {limits.max_image_pixels:,}.",
            code="image_too_many_pixels",
        )


def _pillow_bomb(exc: Exception, limits: Limits) -> ImageError:
    """Pillow refused a size before we saw it (while opening or seeking)."""
    found = _BOMB_PIXELS.search(str(exc))
    declared = f"declares {int(found.group(1)):,} pixels" if found else "declares too many pixels"
    return ImageError(
        f"The image {declared}; the limit is {limits.max_image_pixels:,}.",
        code="image_too_many_pixels",
    )


# -- what the source carried -------------------------------------------------------


def _note_first_frame(image: Image.Image, source: _Source, *, keep_exif: bool) -> None:
    source.kinds |= _metadata_kinds(image)
    exif = _parsed_exif(image)
    if exif is None:
        return
    gps = _gps_ifd(exif)
    source.gps_ifd = gps is not None
    source.gps_position = gps is not None and any(tag in gps for tag in _GPS_POSITION_TAGS)
    source.orientation = _orientation(image, exif)
    if keep_exif and "exif" in source.kinds:
        source.kept_exif = _exif_without_gps(exif)


def _metadata_kinds(image: Image.Image) -> set[str]:
    """Kinds of metadata in this frame's ``info``, PNG text chunks and other HEIF
    metadata blocks (counted as comments unless they are IPTC)."""
    info = image.info
    kinds = {
        kind
        for kind, keys in (
            ("exif", ("exif",)),
            ("xmp", ("xmp", "XML:com.adobe.xmp")),
            ("iptc", ("photoshop", "iptc")),
            ("icc_profile", ("icc_profile",)),
            ("comment", ("comment",)),
        )
        if any(info.get(key) for key in keys)
    }
    if isinstance(image, PngImagePlugin.PngImageFile):
        kinds |= {_PNG_TEXT_KINDS.get(key, "comment") for key in image.text}
    blocks = info.get("metadata")  # pillow_heif: a list of {"type": ..., "data": ...}
    if isinstance(blocks, list):
        kinds |= {"iptc" if _is_iptc_block(block) else "comment" for block in blocks}
    return kinds


def _is_iptc_block(block: object) -> bool:
    return isinstance(block, dict) and block.get("type") == "iptc"


def _parsed_exif(image: Image.Image) -> Image.Exif | None:
    """The source EXIF, or None when it is absent or too damaged to read.

    Damaged EXIF is not a reason to refuse a photo whose pixels decode: it is dropped
    with everything else (and cannot be kept when ``strip_exif`` is off).
    """
    try:
        exif = image.getexif()
    except Exception:
        return None
    return exif if len(exif) else None


def _gps_ifd(exif: Image.Exif) -> dict[int, Any] | None:
    if ExifTags.IFD.GPSInfo not in exif:
        return None
    try:
        return dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception:
        return {}  # a GPS IFD we cannot read is still a GPS IFD


def _orientation(image: Image.Image, exif: Image.Exif) -> int:
    # pillow_heif applies the rotation while decoding and records what it was.
    if image.info.get("original_orientation") in _TRANSPOSE:
        return 1
    value = exif.get(ExifTags.Base.Orientation, 1)
    return value if value in _TRANSPOSE else 1


def _exif_without_gps(exif: Image.Exif) -> bytes | None:
    """The EXIF to keep when ``strip_exif`` is off, or None if it cannot be rebuilt.

    A fresh Exif is filled tag by tag: deleting the GPS tag from the parsed one is not
    enough, because Pillow writes back sub-IFDs it has already read.
    """
    kept = Image.Exif()
    for tag, value in exif.items():
        if tag not in _EXIF_NEVER_KEPT:
            kept[tag] = value
    try:
        details = exif.get_ifd(ExifTags.IFD.Exif)
        kept[ExifTags.Base.ExifOffset] = {
            tag: value for tag, value in details.items() if tag not in _EXIF_NEVER_KEPT
        }
        data = kept.tobytes()
    except Exception:
        return None
    return data if len(data) <= _EXIF_MAX_BYTES else None


# -- the clean image ---------------------------------------------------------------


def _pixels_only(image: Image.Image, orientation: int) -> tuple[Image.Image, bool]:
    """A new image holding this frame's pixels and nothing else, turned upright.

    Uses the table of ``ImageOps.exif_transpose`` but not the function: it also
    re-serialises the source EXIF and rewrites its XMP, work on hostile metadata we
    drop anyway, which can fail for a photo whose pixels are fine. ``transpose`` and
    ``convert`` copy ``info`` along, so the pixels are pasted into a fresh image.
    """
    upright = image.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else image
    plain = _plain_mode(upright)
    del upright  # one fewer full-size copy alive while the clean one is filled
    clean = Image.new(plain.mode, plain.size)
    clean.paste(plain)
    applied = orientation in _TRANSPOSE or image.info.get("original_orientation") in _TRANSPOSE
    return clean, applied


def _plain_mode(image: Image.Image) -> Image.Image:
    """RGB, RGBA, L or LA: the modes both JPEG/PNG writers take without palettes."""
    if image.mode.startswith("I") or image.mode == "F":
        # 16/32-bit grey: scale to 8 bits instead of letting convert() clip at 255.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    grey = Image.getmodebase(image.mode) == "L"
    alpha = image.has_transparency_data
    target = ("LA" if alpha else "L") if grey else ("RGBA" if alpha else "RGB")
    return image if image.mode == target else image.convert(target)


# -- writing -----------------------------------------------------------------------


def _write_outputs(
    decoded: _Decoded, dst_stem: Path, limits: Limits, written: list[Path]
) -> ImageResult:
    source, clean = decoded.source, decoded.image
    output_format = _output_format(source.format, clean)
    suffix = ".jpg" if output_format == "JPEG" else ".png"
    path = dst_stem.with_name(dst_stem.name + suffix)
    options: dict[str, Any] = {"quality": _JPEG_QUALITY} if output_format == "JPEG" else {}
    if source.kept_exif is not None:
        options["exif"] = source.kept_exif
    width, height, mode = clean.width, clean.height, clean.mode
    _save(clean, path, output_format, options, written)

    thumbnail = None
    if limits.thumbnails:
        thumbnail = dst_stem.with_name(dst_stem.name + ".thumb.jpg")
        _save(
            _thumbnail(clean, limits.thumbnail_pixels),
            thumbnail,
            "JPEG",
            {"quality": _THUMBNAIL_QUALITY},
            written,
        )
    removed = _removed(source)
    metadata: dict[str, Any] = {
        "format": source.format,
        "output_format": output_format,
        "width": width,
        "height": height,
        "mode": mode,
        "frames": source.frames,
        "orientation_applied": decoded.orientation_applied,
        "removed": removed,
        "gps_removed": source.gps_ifd,
        "thumbnail": thumbnail is not None,
    }
    return ImageResult(path, thumbnail, metadata, _warnings(source, removed))


def _output_format(source_format: str, clean: Image.Image) -> str:
    """JPEG for camera formats without alpha; PNG keeps alpha and graphics lossless."""
    photo = source_format in _JPEG_FAMILY or source_format in {"HEIF", "AVIF"}
    fits = max(clean.size) <= _JPEG_MAX_SIDE
    return "JPEG" if photo and fits and clean.mode in ("RGB", "L") else "PNG"


def _save(
    image: Image.Image, path: Path, fmt: str, options: dict[str, Any], written: list[Path]
) -> None:
    """Write a new file (never over an existing one), recorded for clean-up."""
    with path.open("xb") as fh:
        written.append(path)
        try:
            image.save(fh, format=fmt, **options)
        except OSError as exc:
            if exc.errno is not None:
                raise  # the disk, not the image
            raise _unencodable(fmt) from exc
        except ValueError as exc:
            raise _unencodable(fmt) from exc


def _unencodable(fmt: str) -> ImageError:
    return ImageError(f"The image could not be re-encoded as {fmt}.", code="image_invalid")


def _thumbnail(clean: Image.Image, side: int) -> Image.Image:
    """Shrink in place (the clean image is already saved) and flatten onto white."""
    clean.thumbnail((side, side))
    if clean.mode not in ("RGBA", "LA"):
        return clean.convert("RGB")
    rgba = clean.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat


def _removed(source: _Source) -> dict[str, bool]:
    removed = {kind: kind in source.kinds for kind in _METADATA_WORDS}
    removed["exif"] = removed["exif"] and source.kept_exif is None
    removed["gps"] = source.gps_ifd
    return dict(sorted(removed.items()))


def _warnings(source: _Source, removed: dict[str, bool]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    if source.gps_position:
        found.append(("gps_removed", "The photo carried a GPS position; it was removed."))
    dropped = [words for kind, words in _METADATA_WORDS.items() if removed[kind]]
    if dropped:
        found.append(
            ("metadata_removed", f"Metadata was removed from the image: {_listed(dropped)}.")
        )
    if source.frames > 1:
        found.append(
            (
                "animated_flattened",
                f"The image had {source.frames:,} frames; only the first was kept.",
            )
        )
    return tuple(found)


def open_clean_image(path: Path) -> Image.Image:
    """Open an image from ready/ for a reader: only our own re-encoded PNG/JPEG is there."""
    with Image.open(path, formats=["PNG", "JPEG"]) as image:
        image.load()
        return image.copy()
