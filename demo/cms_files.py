"""Small real files for the demo documents, written by hand: a one-page PDF and an ODT text.

No dependency and no network: the PDF is PDF 1.4 with the standard Helvetica font (WinAnsi, so
French accents print), the ODT a zip holding mimetype, manifest, meta and content, as the
OpenDocument format asks. Both are deterministic (fixed dates), so a seed gives the same bytes.
"""

from __future__ import annotations

import io
import textwrap
import zipfile
from xml.sax.saxutils import escape

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
LINE_CHARS = 92
MAX_LINES = 48
FIXED_ZIP_TIME = (2025, 9, 15, 9, 0, 0)


def _pdf_text(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _pdf_title(text: str) -> bytes:
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def pdf_document(title: str, paragraphs: list[str]) -> bytes:
    """A valid one-page PDF: the title, then the paragraphs wrapped (cut after MAX_LINES lines)."""
    lines: list[str] = []
    for paragraph in paragraphs:
        lines.extend(textwrap.wrap(paragraph, LINE_CHARS) or [""])
        lines.append("")
    lines = lines[:MAX_LINES]
    y = PAGE_HEIGHT - MARGIN - 10
    content = [b"BT /F2 16 Tf %d %d Td (%s) Tj ET" % (MARGIN, y, _pdf_text(title))]
    y -= 30
    for line in lines:
        if line:
            content.append(b"BT /F1 10.5 Tf %d %d Td (%s) Tj ET" % (MARGIN, y, _pdf_text(line)))
        y -= 14
    content.append(b"BT /F1 8 Tf %d %d Td (%s) Tj ET" % (
        MARGIN, 30, _pdf_text("Passerelles - document de démonstration de la fédération")))
    stream = b"\n".join(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> "
        b"/Contents 6 0 R >>" % (PAGE_WIDTH, PAGE_HEIGHT),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Title %s /Producer (Passerelles) /CreationDate (D:20250915090000Z) >>" % _pdf_title(title),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n" % (
        len(objects) + 1, len(objects), xref_at)
    out += b"%%EOF\n"  # literal: no formatting here
    return bytes(out)


_ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
       'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
       'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/"')


def odt_document(title: str, paragraphs: list[str]) -> bytes:
    """A valid OpenDocument text: a level-1 heading, then one paragraph per item ("- " → list item)."""
    body = [f'<text:h text:outline-level="1">{escape(title)}</text:h>']
    for paragraph in paragraphs:
        if paragraph.startswith("- "):
            body.append(f"<text:list><text:list-item><text:p>{escape(paragraph[2:])}</text:p>"
                        "</text:list-item></text:list>")
        else:
            body.append(f"<text:p>{escape(paragraph)}</text:p>")
    content = ('<?xml version="1.0" encoding="UTF-8"?>\n'
               f'<office:document-content {_NS} office:version="1.2"><office:body><office:text>'
               + "".join(body) + "</office:text></office:body></office:document-content>")
    meta = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<office:document-meta {_NS} office:version="1.2"><office:meta>'
            f"<dc:title>{escape(title)}</dc:title><meta:generator>Passerelles</meta:generator>"
            "</office:meta></office:document-meta>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
                f'manifest:media-type="{_ODT_MIMETYPE}"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The mimetype comes first and uncompressed: that is how readers recognise the format.
        archive.writestr(zipfile.ZipInfo("mimetype", FIXED_ZIP_TIME), _ODT_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        for name, data in (("META-INF/manifest.xml", manifest), ("meta.xml", meta), ("content.xml", content)):
            archive.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
