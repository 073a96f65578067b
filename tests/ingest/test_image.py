"""sanitize_image: only allow-listed formats are decoded, bombs are refused before
decoding, and nothing but pixels (no EXIF, GPS, comments, profiles or appended bytes)
reaches the output."""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image, ImageFile, PngImagePlugin, UnidentifiedImageError

from jupyter_dsagent.exceptions import ImageError, IngestError, TypeNotAllowed
from jupyter_dsagent.ingest import image as image_module
from jupyter_dsagent.ingest.image import ALLOWED_FORMATS, ImageResult, sanitize_image
from jupyter_dsagent.ingest.limits import Limits
from tests.paths import SHARED_DATA

IMAGES = SHARED_DATA / "images"
MALICIOUS = SHARED_DATA / "malicious"
GPS_PHOTOS = (
    "gps_nikon_DSCN0010.jpg",
    "gps_nikon_DSCN0021.jpg",
    "gps_iphone6_hdr.jpg",
    "gps_iphone11_IMG_5195.HEIC",
)
# Markers and chunks that carry metadata; none may appear in any output.
JPEG_METADATA_MARKERS = (b"\xff\xe1", b"\xff\xed", b"\xff\xfe", b"\xff\xe2")
PNG_METADATA_CHUNKS = (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP")


class Expected(NamedTuple):
    format: str
    output: str
    size: tuple[int, int]  # after orientation
    gps_ifd: bool  # metadata["gps_removed"]
    gps_position: bool  # the gps_removed warning


ACCEPTED: dict[str, Expected] = {
    "canon_40D_empty_gps.jpg": Expected("JPEG", "JPEG", (100, 68), True, False),
    "corrupted.jpg": Expected("JPEG", "JPEG", (3648, 2736), False, False),
    "gps_iphone11_IMG_5195.HEIC": Expected("HEIF", "JPEG", (2566, 3313), True, True),
    "gps_iphone6_hdr.jpg": Expected("JPEG", "JPEG", (3264, 2448), True, True),
    "gps_nikon_DSCN0010.jpg": Expected("JPEG", "JPEG", (640, 480), True, True),
    "gps_nikon_DSCN0021.jpg": Expected("JPEG", "JPEG", (640, 480), True, True),
    "nogps_samplefilehub.heif": Expected("HEIF", "JPEG", (640, 426), False, False),
    "orientation6_landscape.jpg": Expected("JPEG", "JPEG", (600, 450), False, False),
    "piexif_r_canon.jpg": Expected("JPEG", "JPEG", (80, 80), True, False),
    "pillow_empty_gps_ifd.jpg": Expected("JPEG", "JPEG", (10, 10), True, False),
    "pillow_exif.avif": Expected("AVIF", "JPEG", (512, 512), False, False),
    "pillow_exif.png": Expected("PNG", "PNG", (512, 512), False, False),
    # GPSLatitude is present (with a garbage value): still a position to warn about.
    "pillow_exif_gps_garbage_values.jpg": Expected("JPEG", "JPEG", (8, 8), True, True),
    "pillow_flower_exif.webp": Expected("WEBP", "PNG", (480, 360), False, False),
    "png_img1.png": Expected("PNG", "PNG", (500, 500), False, False),
}
REFUSED: dict[str, tuple[type[IngestError], str]] = {
    "piexif_notjpeg_empty.jpg": (ImageError, "image_invalid"),  # 0 bytes
    "pillow_decompression_bomb.gif": (ImageError, "image_too_many_pixels"),
    "pillow_decompression_bomb_extents.gif": (ImageError, "image_too_many_pixels"),
    "pillow_decompression_bomb.ico": (TypeNotAllowed, "type_not_allowed"),
    "pillow_reallybig.bmp": (TypeNotAllowed, "type_not_allowed"),
}


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where outputs go; nothing else is ever written there."""
    path = tmp_path / "out"
    path.mkdir()
    return path


def shared_file(name: str) -> Path:
    if name == "png_img1.png":
        return SHARED_DATA / "seaborn" / name
    if name.startswith("pillow_decompression") or name == "pillow_reallybig.bmp":
        return MALICIOUS / name
    return IMAGES / name


def sanitize(src: Path, out_dir: Path, **changes: Any) -> ImageResult:
    return sanitize_image(src, out_dir / "clean", Limits.default(**changes))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    """Put an upload under tmp_path/in, away from the output dir."""
    path = tmp_path / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_markers_before_scan(data: bytes) -> list[int]:
    """Walk the JPEG segments up to the start of scan; return their marker bytes."""
    assert data[:2] == b"\xff\xd8"
    markers, pos = [], 2
    while data[pos] == 0xFF:
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:
            break
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return markers


def png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    types, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        types.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return types


def assert_no_metadata(path: Path) -> None:
    """Pillow sees no EXIF, and the bytes hold no metadata marker or chunk."""
    data = path.read_bytes()
    with Image.open(path) as out:
        assert not out.getexif()
        assert ExifTags.IFD.GPSInfo not in out.getexif()
        assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(out.info)
    if data.startswith(b"\xff\xd8"):
        assert not any(marker in data for marker in JPEG_METADATA_MARKERS)
        assert b"ICC_PROFILE" not in data
        assert set(jpeg_markers_before_scan(data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
    else:
        assert not set(png_chunk_types(data)) & set(PNG_METADATA_CHUNKS)
        assert not any(chunk in data for chunk in PNG_METADATA_CHUNKS)


def source_exif(path: Path) -> Image.Exif:
    if path.suffix.lower() == ".heic":
        raw = pillow_heif.open_heif(path).info["exif"]
    else:
        with Image.open(path) as source:
            raw = source.info["exif"]
    exif = Image.Exif()
    exif.load(raw)
    return exif


def gps_fingerprints(path: Path) -> list[bytes]:
    """Latitude and longitude as stored in the file (24 bytes each), and GPS strings."""
    exif = source_exif(path)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert exif.endian in ("<", ">")
    found = [
        b"".join(struct.pack(f"{exif.endian}LL", v.numerator, v.denominator) for v in gps[tag])
        for tag in (ExifTags.GPS.GPSLatitude, ExifTags.GPS.GPSLongitude)
    ]
    found += [v.encode() for v in gps.values() if isinstance(v, str) and len(v.strip()) >= 6]
    return found


@pytest.fixture(scope="module")
def shared_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each shared file sanitized once (the large photos take a while), in its own dir."""
    outcomes: dict[str, Any] = {}
    for name in [*ACCEPTED, *REFUSED]:
        out_dir = tmp_path_factory.mktemp(name.replace(".", "_"))
        try:
            outcomes[name] = (out_dir, sanitize(shared_file(name), out_dir))
        except IngestError as error:
            outcomes[name] = (out_dir, error)
    return outcomes


# -- the shared fixtures -----------------------------------------------------------


def test_every_shared_image_has_a_decided_outcome() -> None:
    on_disk = {p.name for p in IMAGES.iterdir()} | {"png_img1.png"}
    on_disk |= {p.name for p in MALICIOUS.iterdir() if p.name.startswith("pillow_")}
    assert on_disk == set(ACCEPTED) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_shared_image_is_reencoded_without_metadata(
    name: str, shared_outcomes: dict[str, Any]
) -> None:
    out_dir, result = shared_outcomes[name]
    expected = ACCEPTED[name]
    assert isinstance(result, ImageResult)
    assert result.path == out_dir / ("clean.jpg" if expected.output == "JPEG" else "clean.png")
    assert result.metadata["format"] == expected.format
    assert result.metadata["output_format"] == expected.output
    assert (result.metadata["width"], result.metadata["height"]) == expected.size
    assert result.metadata["gps_removed"] is expected.gps_ifd
    assert result.metadata["removed"]["gps"] is expected.gps_ifd
    codes = [code for code, _ in result.warnings]
    assert ("gps_removed" in codes) is expected.gps_position
    with Image.open(result.path) as out:
        assert out.format == expected.output
        assert out.size == expected.size
    assert_no_metadata(result.path)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        [result.path.name, "clean.thumb.jpg"]
    )


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_thumbnail_is_a_small_jpeg_without_metadata(
    name: str, shared_outcomes: dict[str, Any]
) -> None:
    _, result = shared_outcomes[name]
    side = Limits.default().thumbnail_pixels
    assert result.thumbnail is not None and result.metadata["thumbnail"] is True
    with Image.open(result.thumbnail) as thumb:
        assert thumb.format == "JPEG" and thumb.mode == "RGB"
        assert max(thumb.size) == min(side, max(ACCEPTED[name].size))
    assert_no_metadata(result.thumbnail)


@pytest.mark.parametrize("name", GPS_PHOTOS)
def test_gps_values_of_the_source_are_nowhere_in_the_outputs(
    name: str, shared_outcomes: dict[str, Any]
) -> None:
    _, result = shared_outcomes[name]
    source = shared_file(name).read_bytes()
    fingerprints = gps_fingerprints(shared_file(name))
    assert len(fingerprints) >= 2 and all(f in source for f in fingerprints)
    for output in (result.path, result.thumbnail):
        data = output.read_bytes()
        assert not [f for f in fingerprints if f in data]
    assert result.metadata["removed"]["exif"] is True
    assert ("gps_removed", "The photo carried a GPS position; it was removed.") in result.warnings


def test_orientation_is_applied_to_the_pixels(shared_outcomes: dict[str, Any]) -> None:
    src = shared_file("orientation6_landscape.jpg")
    with Image.open(src) as raw:
        raw_size = raw.size
    _, result = shared_outcomes["orientation6_landscape.jpg"]
    assert result.metadata["orientation_applied"] is True
    assert (result.metadata["width"], result.metadata["height"]) == raw_size[::-1]
    _, upright = shared_outcomes["gps_nikon_DSCN0010.jpg"]
    assert upright.metadata["orientation_applied"] is False


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_shared_file_is_refused_with_a_stable_code_and_no_output(
    name: str, shared_outcomes: dict[str, Any]
) -> None:
    out_dir, error = shared_outcomes[name]
    kind, code = REFUSED[name]
    assert type(error) is kind and error.code == code
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["pillow_decompression_bomb.ico", "pillow_reallybig.bmp"])
def test_disallowed_formats_never_reach_their_decoders(
    name: str, shared_outcomes: dict[str, Any]
) -> None:
    """Pillow's own ICO/BMP openers raise DecompressionBombError on these files; ours
    only ever saw "no allowed decoder recognises this"."""
    with pytest.raises(Image.DecompressionBombError):
        Image.open(shared_file(name))
    error = shared_outcomes[name][1]
    assert isinstance(error.__cause__, UnidentifiedImageError)


def test_refusal_messages_name_the_limit_and_the_format(
    shared_outcomes: dict[str, Any],
) -> None:
    bomb = shared_outcomes["pillow_decompression_bomb.gif"][1]
    assert bomb.message == "The image declares 4,364,696,535 pixels; the limit is 50,000,000."
    bmp = shared_outcomes["pillow_reallybig.bmp"][1]
    assert bmp.message.startswith("The file is in BMP format; only PNG, JPEG, WebP, GIF")
    assert "ICO format" in shared_outcomes["pillow_decompression_bomb.ico"][1].message


def test_metadata_record_has_no_exif_values(shared_outcomes: dict[str, Any]) -> None:
    _, result = shared_outcomes["gps_nikon_DSCN0010.jpg"]
    assert set(result.metadata) == {
        "format",
        "output_format",
        "width",
        "height",
        "mode",
        "frames",
        "orientation_applied",
        "removed",
        "gps_removed",
        "thumbnail",
    }
    assert result.metadata["removed"] == {
        "comment": False,
        "exif": True,
        "gps": True,
        "icc_profile": False,
        "iptc": False,
        "xmp": True,
    }
    text = repr(result)
    assert not [word for word in ("NIKON", "COOLPIX", "43.46", "WGS-84", "2008") if word in text]


# -- generated attacks -------------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A valid-CRC PNG header for any size, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + png_chunk(b"IEND", b"")
    )


def test_png_claiming_ten_billion_pixels_is_refused_without_decoding(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(tmp_path, "huge.png", png_claiming(100_000, 100_000))

    def no_decoding(self: object) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ImageError) as caught:
        sanitize(src, out_dir)
    assert caught.value.code == "image_too_many_pixels"
    assert "10,000,000,000 pixels; the limit is 50,000,000" in caught.value.message
    assert list(out_dir.iterdir()) == []


def test_pixels_between_one_and_two_times_the_limit_are_refused(
    tmp_path: Path, out_dir: Path
) -> None:
    """Pillow only warns in this band; the warning must not let the image through."""
    src = write(tmp_path, "band.png", png_claiming(150, 100))
    with pytest.raises(ImageError) as caught:
        sanitize(src, out_dir, max_image_pixels=10_000)
    assert caught.value.code == "image_too_many_pixels"
    assert caught.value.message == "The image declares 15,000 pixels; the limit is 10,000."


def test_own_pixel_check_holds_without_pillows(
    tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Image, "_decompression_bomb_check", lambda *args, **kwargs: None)
    src = write(tmp_path, "huge.png", png_claiming(100_000, 100_000))
    with pytest.raises(ImageError) as caught:
        sanitize(src, out_dir)
    assert caught.value.message == (
        "The image is 100,000 \N{MULTIPLICATION SIGN} 100,000 = 10,000,000,000 pixels; "
        "the limit is 50,000,000."
    )


def test_pillow_globals_are_restored_after_a_call(tmp_path: Path, out_dir: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    with pytest.raises(ImageError):
        sanitize(write(tmp_path, "huge.png", png_claiming(100_000, 100_000)), out_dir)
    sanitize(IMAGES / "pillow_empty_gps_ifd.jpg", out_dir, max_image_pixels=1_000)
    assert before == (Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES)


@pytest.mark.parametrize("name", ["gps_nikon_DSCN0010.jpg", "pillow_exif.png"])
def test_truncated_image_is_refused_even_if_pillow_was_told_to_accept_it(
    name: str, tmp_path: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = (IMAGES / name).read_bytes()
    src = write(tmp_path, name, data[: len(data) // 2])
    with pytest.raises(ImageError) as caught:
        sanitize(src, out_dir)
    assert caught.value.code == "image_invalid"
    assert list(out_dir.iterdir()) == []


def test_zip_appended_to_a_jpeg_does_not_survive(tmp_path: Path, out_dir: Path) -> None:
    payload = io.BytesIO()
    with zipfile.ZipFile(payload, "w") as archive:
        archive.writestr("evil.py", "import os\n" * 2_000)
    jpeg = (IMAGES / "gps_nikon_DSCN0010.jpg").read_bytes()
    src = write(tmp_path, "polyglot.jpg", jpeg + payload.getvalue())
    result = sanitize(src, out_dir)
    assert result.thumbnail is not None
    for output in (result.path, result.thumbnail):
        assert b"PK\x03\x04" not in output.read_bytes()
    assert result.path.stat().st_size < src.stat().st_size


def photoshop_app13(iptc: bytes) -> bytes:
    """An APP13 segment holding one Photoshop IPTC resource (0x0404)."""
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    resource += b"\x00" * (len(iptc) % 2)
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def test_jpeg_comment_icc_profile_xmp_and_iptc_are_removed(tmp_path: Path, out_dir: Path) -> None:
    city = b"\x1c\x02\x5a" + struct.pack(">H", 13) + b"SecretVillage"
    jpeg = encoded(
        Image.new("RGB", (64, 48), "teal"),
        "JPEG",
        comment=b"my home address",
        icc_profile=b"HOSTILE-ICC-PROFILE" * 10,
        xmp=b"<x:xmpmeta>exif:GPSLatitude 43,28.0469N</x:xmpmeta>",
    )
    src = write(tmp_path, "tagged.jpg", jpeg[:2] + photoshop_app13(city) + jpeg[2:])
    result = sanitize(src, out_dir)
    assert result.metadata["removed"] == {
        "comment": True,
        "exif": False,
        "gps": False,
        "icc_profile": True,
        "iptc": True,
        "xmp": True,
    }
    assert (
        "metadata_removed",
        "Metadata was removed from the image: XMP, IPTC, ICC colour profile and comments.",
    ) in result.warnings
    data = result.path.read_bytes()
    for secret in (b"my home address", b"HOSTILE-ICC", b"GPSLatitude", b"SecretVillage"):
        assert secret not in data
    assert_no_metadata(result.path)


def test_png_text_profile_and_exif_chunks_are_removed(tmp_path: Path, out_dir: Path) -> None:
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "tEXt secret")
    text.add_text("Author", "zTXt secret", zip=True)
    text.add_itxt("Description", "iTXt secret")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    png = encoded(
        Image.new("RGB", (32, 32), "orange"),
        "PNG",
        pnginfo=text,
        icc_profile=b"HOSTILE-ICC-PROFILE" * 10,
        exif=exif,
    )
    assert {b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"} <= set(png_chunk_types(png))
    result = sanitize(write(tmp_path, "tagged.png", png), out_dir)
    assert result.metadata["removed"] == {
        "comment": True,
        "exif": True,
        "gps": False,
        "icc_profile": True,
        "iptc": False,
        "xmp": False,
    }
    assert png_chunk_types(result.path.read_bytes()) == [b"IHDR", b"IDAT", b"IEND"]
    assert b"secret" not in result.path.read_bytes()


def gif(frames: int) -> bytes:
    colours = ["red", "green", "blue", "white", "black"]
    images = [Image.new("RGB", (20, 10), colours[i % len(colours)]) for i in range(frames)]
    return encoded(images[0], "GIF", save_all=True, append_images=images[1:], duration=50)


def test_animation_over_the_frame_limit_is_refused(tmp_path: Path, out_dir: Path) -> None:
    with pytest.raises(ImageError) as caught:
        sanitize(write(tmp_path, "long.gif", gif(5)), out_dir, max_image_frames=4)
    assert caught.value.code == "image_invalid"
    assert caught.value.message == "The image has 5 frames; the limit is 4."
    assert list(out_dir.iterdir()) == []


def test_animation_within_the_limit_keeps_its_first_frame(tmp_path: Path, out_dir: Path) -> None:
    result = sanitize(write(tmp_path, "short.gif", gif(3)), out_dir, max_image_frames=4)
    assert result.metadata["frames"] == 3 and result.metadata["output_format"] == "PNG"
    assert ("animated_flattened", "The image had 3 frames; only the first was kept.") in (
        result.warnings
    )
    with Image.open(result.path) as out:
        assert getattr(out, "n_frames", 1) == 1
        assert out.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_palette_transparency_is_kept_as_alpha(tmp_path: Path, out_dir: Path) -> None:
    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, 4, 8))
    src = write(tmp_path, "p.png", encoded(palette, "PNG", transparency=0))
    result = sanitize(src, out_dir)
    assert result.metadata["mode"] == "RGBA" and result.path.suffix == ".png"
    with Image.open(result.path) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((6, 4)) == (255, 0, 0, 0)
        assert out.getpixel((1, 4)) == (0, 0, 255, 255)


def test_cmyk_jpeg_becomes_an_rgb_jpeg(tmp_path: Path, out_dir: Path) -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))
    result = sanitize(write(tmp_path, "cmyk.jpg", encoded(cmyk, "JPEG")), out_dir)
    with Image.open(result.path) as out:
        assert out.format == "JPEG" and out.mode == "RGB"
        red, green, blue = out.getpixel((8, 8))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60


def test_sixteen_bit_grey_png_is_scaled_not_clipped(tmp_path: Path, out_dir: Path) -> None:
    grey = Image.new("I;16", (2, 1))
    grey.putpixel((0, 0), 32_768)
    grey.putpixel((1, 0), 65_535)
    result = sanitize(write(tmp_path, "grey16.png", encoded(grey, "PNG")), out_dir)
    with Image.open(result.path) as out:
        assert out.mode == "L"
        assert [out.getpixel((0, 0)), out.getpixel((1, 0))] == [128, 255]


def test_keeping_exif_keeps_camera_tags_but_not_gps(out_dir: Path) -> None:
    src = IMAGES / "gps_nikon_DSCN0010.jpg"
    result = sanitize(src, out_dir, strip_exif=False)
    with Image.open(result.path) as out:
        exif = out.getexif()
        assert exif[ExifTags.Base.Make] == "NIKON"
        assert exif[ExifTags.Base.Model] == "COOLPIX P6000"
        assert ExifTags.IFD.GPSInfo not in exif
        assert exif.get_ifd(ExifTags.IFD.Exif)  # exposure details kept
    data = result.path.read_bytes()
    assert not [f for f in gps_fingerprints(src) if f in data]
    assert b"<x:xmpmeta" not in data
    assert result.metadata["gps_removed"] is True
    assert result.metadata["removed"]["exif"] is False
    assert result.metadata["removed"]["gps"] is True
    assert_no_metadata(result.thumbnail)  # type: ignore[arg-type]


def exif_with_an_oversized_tag_and_gps() -> bytes:
    """IFD0: a Make tag claiming 100 kB of text (Pillow warns and skips it), then a GPS
    IFD holding a latitude."""
    ifd0 = (
        struct.pack("<H", 2)
        + struct.pack("<HHLL", ExifTags.Base.Make, 2, 100_000, 500)
        + struct.pack("<HHLL", ExifTags.Base.GPSInfo, 4, 1, 38)
        + struct.pack("<L", 0)
    )
    gps = struct.pack("<H", 1) + struct.pack("<HHLL", ExifTags.GPS.GPSLatitude, 5, 3, 56)
    latitude = struct.pack("<6L", 38, 1, 43, 1, 1234, 100)
    return (
        b"Exif\x00\x00II*\x00" + struct.pack("<L", 8) + ifd0 + gps + struct.pack("<L", 0) + latitude
    )


def test_damaged_exif_tag_does_not_hide_the_gps_position(tmp_path: Path, out_dir: Path) -> None:
    """Pillow's warning about the broken tag stays inside (even under -W error), so the
    rest of the EXIF is still read and the GPS position is still reported."""
    jpeg = encoded(Image.new("RGB", (8, 8)), "JPEG", exif=exif_with_an_oversized_tag_and_gps())
    result = sanitize(write(tmp_path, "damaged.jpg", jpeg), out_dir)
    assert result.metadata["gps_removed"] is True
    assert result.warnings[0] == (
        "gps_removed",
        "The photo carried a GPS position; it was removed.",
    )
    assert_no_metadata(result.path)


def test_no_thumbnail_when_thumbnails_are_off(out_dir: Path) -> None:
    result = sanitize(IMAGES / "canon_40D_empty_gps.jpg", out_dir, thumbnails=False)
    assert result.thumbnail is None and result.metadata["thumbnail"] is False
    assert sorted(p.name for p in out_dir.iterdir()) == ["clean.jpg"]


def test_failure_after_writing_removes_what_was_written(out_dir: Path) -> None:
    """A thumbnail path that already exists is never overwritten; the main output goes."""
    existing = out_dir / "clean.thumb.jpg"
    existing.write_bytes(b"not ours")
    with pytest.raises(FileExistsError):
        sanitize(IMAGES / "canon_40D_empty_gps.jpg", out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == ["clean.thumb.jpg"]
    assert existing.read_bytes() == b"not ours"


def test_heic_without_pillow_heif_is_refused_by_name(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_module, "ALLOWED_FORMATS", ALLOWED_FORMATS - {"HEIF"})
    with pytest.raises(TypeNotAllowed) as caught:
        sanitize(IMAGES / "nogps_samplefilehub.heif", out_dir)
    assert "pillow-heif package is not installed" in caught.value.message


def test_non_image_is_refused_as_invalid(tmp_path: Path, out_dir: Path) -> None:
    with pytest.raises(ImageError) as caught:
        sanitize(write(tmp_path, "data.csv", b"a,b\n1,2\n"), out_dir)
    assert caught.value.code == "image_invalid"


def test_allowed_formats_are_exactly_the_allow_list() -> None:
    assert {"PNG", "JPEG", "WEBP", "GIF", "AVIF", "HEIF"} == ALLOWED_FORMATS


# -- property: no input escapes as anything but a refusal -------------------------

MAGIC = {
    "PNG": b"\x89PNG\r\n\x1a\n",
    "JPEG": b"\xff\xd8\xff",
    "GIF": b"GIF89a",
    "WEBP": b"RIFF\x00\x01\x00\x00WEBPVP8 ",
    "AVIF": b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00",
    "HEIF": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00",
}


def seed_images() -> list[bytes]:
    """Tiny valid files in every allowed format (animated ones too), for mutation."""
    rgb, other = Image.new("RGB", (16, 12), "purple"), Image.new("RGB", (16, 12), "yellow")
    heif = io.BytesIO()
    pillow_heif.from_pillow(rgb).save(heif, quality=30)
    return [
        encoded(rgb, "PNG"),
        encoded(rgb.convert("P"), "PNG", transparency=0),
        encoded(rgb, "PNG", save_all=True, append_images=[other]),
        encoded(rgb, "JPEG", comment=b"note", exif=Image.Exif().tobytes()),
        encoded(rgb, "MPO", save_all=True, append_images=[other]),
        gif(2),
        encoded(rgb, "WEBP"),
        encoded(rgb, "WEBP", save_all=True, append_images=[other]),
        encoded(rgb, "AVIF"),
        heif.getvalue(),
    ]


SEEDS = seed_images()


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


HOSTILE_BYTES = st.one_of(
    st.binary(max_size=512),
    st.builds(lambda m, tail: m + tail, st.sampled_from(list(MAGIC.values())), st.binary()),
    mutated_seed(),
)


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=HOSTILE_BYTES)
def test_any_bytes_give_a_clean_image_or_a_refusal(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as work:
        src = Path(work) / "upload.bin"
        src.write_bytes(data)
        out_dir = Path(work) / "out"
        out_dir.mkdir()
        try:
            result = sanitize(src, out_dir, max_image_pixels=100_000, max_image_frames=4)
        except IngestError:
            assert list(out_dir.iterdir()) == []
            return
        assert result.thumbnail is not None
        assert sorted(out_dir.iterdir()) == sorted([result.path, result.thumbnail])
        assert_no_metadata(result.path)
