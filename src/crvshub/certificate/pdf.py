"""Render a certificate as a PDF (fpdf2, pure Python) with its QR code (segno, vector)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import segno
from anyascii import anyascii
from fpdf import FPDF

from crvshub.certificate.templates import Field, Template, Text

# A Unicode font if the system has one; else the PDF core fonts, with text outside Latin-1
# transliterated (anyascii) so that nothing is lost or fails to print.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
PAPER = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
}


@dataclass(frozen=True)
class Printed:
    """Everything printed on one certificate besides the template."""

    facts: dict[str, Any]
    certificate_id: str
    issued_on: str
    print_number: int
    qr_text: str
    verify_url: str


@functools.cache
def _unicode_font() -> tuple[Path, Path] | None:
    for regular in UNICODE_FONTS:
        bold = regular.with_name(regular.stem + "-Bold.ttf")
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def long_date(value: str | None, language: str) -> str:
    """Format an ISO date as `1 March 2026` (or the template language's month names)."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    months = MONTHS.get(language, MONTHS["en"])
    return f"{day.day} {months[day.month - 1]} {day.year}"


def fact(facts: dict[str, Any], path: str) -> Any:
    """Return a dotted path of the facts (`mother.name`), or None."""
    value: Any = facts
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class _Pdf(FPDF):
    def __init__(self, paper: str, *, unicode: bool) -> None:
        super().__init__(unit="mm", format=PAPER[paper])
        self.set_auto_page_break(False)
        self.set_margins(18, 18, 18)
        # The PDF core fonts need no embedding (fast, small files) and cover Latin-1; a text
        # beyond it is drawn with a Unicode font when the system has one.
        found = _unicode_font() if unicode else None
        self.unicode = found is not None
        if found is not None:
            self.add_font("Body", "", str(found[0]))
            self.add_font("Body", "B", str(found[1]))
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family_name, "B" if bold else "", size)

    def clean(self, text: str) -> str:
        if self.unicode:
            return text
        return "".join(c if ord(c) < 256 else anyascii(c) for c in text)


def _latin1(template: Template, printed: Printed) -> bool:
    """Tell whether every text of a certificate can be drawn with the core fonts."""
    try:
        repr_ = json.dumps([printed.facts, template.raw], ensure_ascii=False)
        repr_.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class _Page:
    """One certificate being drawn: the template's languages, colour and paper size."""

    def __init__(self, template: Template, printed: Printed, paper: str) -> None:
        self.pdf = _Pdf(paper, unicode=not _latin1(template, printed))
        self.template = template
        self.printed = printed
        self.width, self.height = PAPER[paper]
        self.colour = _rgb(template.colour)
        self.first = template.languages[0]
        self.second = template.languages[1] if len(template.languages) > 1 else None

    def both(self, text: Text) -> str:
        other = text.get(self.second) if self.second else None
        first = text[self.first]
        return first if not other or other == first else f"{first} / {other}"

    def line(self, y: float, height: float, text: str, size: float, *, bold: bool = False,
             align: str = "C") -> float:
        self.pdf.set_xy(18, y)
        self.pdf.font(size, bold=bold)
        self.pdf.cell(self.width - 36, height, self.pdf.clean(text), align=align)
        return y + height

    def header(self) -> float:
        pdf, t, width = self.pdf, self.template, self.width
        pdf.set_draw_color(*self.colour)
        pdf.set_line_width(1.2)
        pdf.rect(8, 8, width - 16, self.height - 16)
        pdf.set_line_width(0.3)
        pdf.rect(10.5, 10.5, width - 21, self.height - 21)
        y = 16.0
        if t.emblem is not None:
            pdf.image(str(t.emblem), x=width / 2 - 11, y=y, w=22, h=22)
            y += 25
        pdf.set_text_color(20, 20, 20)
        y = self.line(y, 7, t.country[self.first].upper(), 15, bold=True)
        if self.second and self.second in t.country:
            y = self.line(y, 5, t.country[self.second], 10)
        y = self.line(y, 5, self.both(t.authority), 10) + 4
        pdf.set_text_color(*self.colour)
        y = self.line(y, 10, t.title[self.first], 22, bold=True)
        if self.second and self.second in t.title:
            y = self.line(y, 6, t.title[self.second], 13) + 1
        return y + 3

    def sections(self, y: float) -> float:
        pdf, width = self.pdf, self.width
        label_w = 62.0
        value_x = 18 + label_w + 2
        for section in self.template.sections:
            pdf.set_fill_color(*self.colour)
            pdf.set_text_color(255, 255, 255)
            pdf.set_xy(18, y)
            pdf.font(10, bold=True)
            pdf.cell(width - 36, 6.5, pdf.clean(" " + self.both(section.heading)), fill=True)
            y += 8
            for field in section.fields:
                pdf.set_text_color(90, 90, 90)
                pdf.set_xy(18, y)
                pdf.font(8)
                pdf.multi_cell(label_w, 3.6, pdf.clean(self.both(field.label)), align="L")
                label_end = pdf.get_y()
                pdf.set_text_color(15, 15, 15)
                pdf.set_xy(value_x, y)
                pdf.font(11.5 if field.strong else 10.5, bold=field.strong)
                pdf.multi_cell(width - 18 - value_x, 5.2, pdf.clean(self.shown(field)),
                               align="L")
                y = max(label_end, pdf.get_y()) + 1.6
                pdf.set_draw_color(215, 215, 215)
                pdf.set_line_width(0.1)
                pdf.line(18, y - 0.8, width - 18, y - 0.8)
            y += 3
        return y

    def shown(self, field: Field) -> str:
        raw = fact(self.printed.facts, field.value)
        value = long_date(str(raw), self.first) if field.format == "date" and raw else raw
        shown = str(value).strip() if value not in (None, "") else "-"
        return shown.capitalize() if field.value == "gender" else shown

    def statement(self, y: float) -> None:
        pdf, t = self.pdf, self.template
        pdf.set_text_color(30, 30, 30)
        pdf.set_xy(18, y)
        pdf.font(9.5)
        pdf.multi_cell(self.width - 36, 4.6, pdf.clean(t.statement[self.first]))
        if self.second and self.second in t.statement:
            pdf.set_x(18)
            pdf.set_text_color(90, 90, 90)
            pdf.font(8.5)
            pdf.multi_cell(self.width - 36, 4.2, pdf.clean(t.statement[self.second]))

    def foot(self) -> None:
        """Signature block (left) and QR code (right), at the foot of the page."""
        pdf, t, printed, width = self.pdf, self.template, self.printed, self.width
        qr_size = 38.0
        top = self.height - 20 - qr_size - 8
        facts = printed.facts
        pdf.set_text_color(30, 30, 30)
        pdf.set_xy(18, top + 4)
        pdf.font(9)
        issued = long_date(printed.issued_on, self.first)
        pdf.cell(90, 5, pdf.clean(f"{self.both(t.issued)}: {issued}"))
        pdf.set_draw_color(40, 40, 40)
        pdf.set_line_width(0.3)
        pdf.line(18, top + 26, 100, top + 26)
        pdf.set_xy(18, top + 27)
        pdf.font(10, bold=True)
        pdf.cell(90, 5, pdf.clean(str(facts.get("registrar") or "")))
        pdf.set_xy(18, top + 32)
        pdf.font(8.5)
        pdf.cell(90, 4.5, pdf.clean(self.both(t.signature)))
        pdf.set_xy(18, top + 36.5)
        pdf.cell(90, 4.5, pdf.clean(str(facts.get("office") or "")))
        qr_x = width - 18 - qr_size
        _draw_qr(pdf, printed.qr_text, qr_x, top, qr_size)
        pdf.set_xy(qr_x - 20, top + qr_size + 0.5)
        pdf.font(7)
        pdf.set_text_color(60, 60, 60)
        pdf.cell(qr_size + 20, 3.5, pdf.clean(self.both(t.verify)), align="R")
        copy = "" if printed.print_number == 1 else f" · copy {printed.print_number}"
        pdf.set_text_color(110, 110, 110)
        self.line(self.height - 17, 3.5,
                  f"Certificate {printed.certificate_id}{copy} · verify at {printed.verify_url}",
                  7)


def render(template: Template, printed: Printed, paper: str = "A4") -> bytes:
    """Return the PDF of one certificate."""
    page = _Page(template, printed, paper)
    page.pdf.set_title(f"{template.title[page.first]} {printed.facts['registrationNumber']}")
    page.pdf.set_creator("CRVS Hub")
    # The QR code's text, also readable without decoding the image (crvshub verify-certificate).
    page.pdf.set_keywords(printed.qr_text)
    page.pdf.add_page()
    page.statement(page.sections(page.header()))
    page.foot()
    return bytes(page.pdf.output())


def _draw_qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw a QR code as filled rectangles, one path for the whole code (crisp and fast).

    The mask is fixed: every mask is valid for a reader, and choosing the "best" one costs more
    than the rest of the code.
    """
    code = segno.make_qr(text, error="m", mask=0)
    rows = [list(r) for r in code.matrix]
    border = 2
    module = size / (len(rows) + 2 * border)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    k, page_h = pdf.k, pdf.h
    ops = []
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                left, top = x + (start + border) * module, y + (r + border) * module
                ops.append(f"{left * k:.2f} {(page_h - top) * k:.2f} "
                           f"{(c - start) * module * k:.2f} {-module * k:.2f} re")
            else:
                c += 1
    ops.append("f")
    pdf._out("\n".join(ops))
