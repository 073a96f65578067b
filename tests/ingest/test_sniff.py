"""Type by content: signatures decide, names must agree, dangerous kinds never pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_dsagent.exceptions import ContentMismatch, TypeNotAllowed
from jupyter_dsagent.ingest.limits import Limits
from jupyter_dsagent.ingest.sniff import clean_name, expect_kind, extension_of, sniff

from ..paths import SHARED_DATA

ALLOWED = Limits.default().allowed_extensions


def write(tmp_path: Path, content: bytes, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("relative", "name", "kind"),
    [
        ("seaborn/titanic.csv", "titanic.csv", "csv"),
        ("messy/superstore_semicolon_cp1252_decimalcomma.csv", "s.csv", "csv"),
        ("messy/HR_attrition_utf8_bom.csv", "hr.csv", "csv"),
        ("large/Skin_NonSkin.txt", "skin.txt", "txt"),
        ("zips/Bike-Sharing-Dataset.zip", "bikes.zip", "zip"),
        ("images/gps_nikon_DSCN0010.jpg", "photo.JPG", "image"),
        ("images/gps_iphone11_IMG_5195.HEIC", "IMG_5195.HEIC", "image"),
        ("images/pillow_exif.avif", "x.avif", "image"),
        ("images/pillow_flower_exif.webp", "x.webp", "image"),
        ("seaborn/png_img1.png", "x.png", "image"),
    ],
)
def test_real_files_get_their_kind(relative: str, name: str, kind: str) -> None:
    assert expect_kind(name, sniff(SHARED_DATA / relative), ALLOWED) == kind


def test_html_saved_as_csv_is_refused() -> None:
    with pytest.raises(ContentMismatch, match="HTML"):
        sniff(SHARED_DATA / "messy/pd_speech_features_ACTUALLY_HTML.csv")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"MZ\x90\x00" + b"\x00" * 60, "Windows executable"),
        (b"\x7fELF\x02\x01\x01", "Linux executable"),
        (b"#!/bin/sh\nrm -rf ~\n", "script"),
        (b"\x80\x04\x95\x10\x00", "pickle"),
        (b"\x93NUMPY\x01\x00", "NumPy"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"%PDF-1.7", "PDF"),
        (b"\x00" * 257 + b"ustar\x0000", "TAR"),
        (b"BM\x00\x00", "BMP"),
        (b"SQLite format 3\x00", "SQLite"),
    ],
)
def test_dangerous_or_unsupported_kinds_are_never_accepted(
    tmp_path: Path, content: bytes, words: str
) -> None:
    with pytest.raises(TypeNotAllowed, match=words):
        sniff(write(tmp_path, content))


@pytest.mark.parametrize(
    "markup",
    [
        b"<!DOCTYPE html><html>",
        b"  \n<html lang=en>",
        b"\xef\xbb\xbf<svg xmlns=...>",
        b"<?xml version='1.0'?><root/>",
        b"<script>alert(1)</script>",
    ],
)
def test_markup_is_refused(tmp_path: Path, markup: bytes) -> None:
    with pytest.raises(ContentMismatch):
        sniff(write(tmp_path, markup))


def test_utf16_text_is_text_and_utf16_html_is_markup(tmp_path: Path) -> None:
    assert sniff(write(tmp_path, "a,b\n1,2\n".encode("utf-16"))).family == "text"
    with pytest.raises(ContentMismatch):
        sniff(write(tmp_path, "<html><body>".encode("utf-16"), "h"))


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("photo.png", b"\xff\xd8\xff\xe0JFIF", ContentMismatch),  # a JPEG named .png
        ("data.csv", b"PK\x03\x04rest", ContentMismatch),
        ("table.parquet", b"a,b\n1,2\n", ContentMismatch),
        ("data.json", b"a,b\n1,2\n", ContentMismatch),
        ("archive.zip", b"a,b\n", ContentMismatch),
        ("notes", b"a,b\n", TypeNotAllowed),  # no extension
        ("report.pdf.exe", b"a,b\n", TypeNotAllowed),
        ("script.py", b"print(1)\n", TypeNotAllowed),
        ("page.html", b"a,b\n", TypeNotAllowed),
    ],
)
def test_name_and_content_must_agree(
    tmp_path: Path, name: str, content: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        expect_kind(name, sniff(write(tmp_path, content)), ALLOWED)


@pytest.mark.parametrize("content", [b"42", b'"just text"', b"true", b"a,b\n1,2\n"])
def test_json_that_is_no_table_says_what_a_table_looks_like(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(ContentMismatch, match=r"does not start with \[ or \{"):
        expect_kind("data.json", sniff(write(tmp_path, content)), ALLOWED)


def test_extension_must_be_on_the_configured_allow_list(tmp_path: Path) -> None:
    sniffed = sniff(write(tmp_path, b"a,b\n1,2\n"))
    assert expect_kind("t.csv", sniffed, ALLOWED) == "csv"
    with pytest.raises(TypeNotAllowed, match=r"allowed: \.zip"):
        expect_kind("t.csv", sniffed, ("zip",))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\data.csv", "data.csv"),
        ("/abs/path/x.csv", "x.csv"),
        (".bashrc", "bashrc"),
        ("na\x00me\r\n.csv", "name.csv"),
        ("", "upload"),
        ("..", "upload"),
        (" .csv", "upload.csv"),
        ("\udcff\u200b.csv", "upload.csv"),  # a lone surrogate and a format character
        ("\n.csv", "upload.csv"),
        ("x" * 400 + ".csv", "x" * 251 + ".csv"),
    ],
)
def test_client_names_become_display_names_only(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_extension_of() -> None:
    assert extension_of("a.CSV") == "csv"
    assert extension_of("archive.tar.gz") == "gz"
    assert extension_of("noext") == ""
    assert extension_of(".csv") == ""
