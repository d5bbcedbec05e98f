"""The facilitator certificate as a PDF (fpdf2, pure Python).

fpdf2's built-in fonts cover Latin-1 only: French letters are fine, other characters (typographic
dashes, curly quotes, other scripts) are replaced by close equivalents or ``?``.
"""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _
from fpdf import FPDF

from maillage.communities.training.models import Certificate

REPLACEMENTS = {"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "œ": "oe"}


def latin1(text: str) -> str:
    for char, replacement in REPLACEMENTS.items():
        text = text.replace(char, replacement)
    return text.encode("latin-1", "replace").decode("latin-1")


def certificate_pdf(certificate: Certificate, instance_name: str, verify_url: str) -> bytes:
    """A one-page A4 landscape certificate: holder, path, date, verification code and address."""
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(latin1(_("Certificat d'animateur")))
    pdf.set_author(latin1(instance_name))
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(0, 0, 145)
    pdf.set_line_width(1.5)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    def line(text: str, size: int, style: str = "", height: float = 12) -> None:
        pdf.set_font("helvetica", style, size)
        pdf.cell(0, height, latin1(text), align="C", new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(35)
    line(instance_name, 14)
    line(_("Certificat d'animateur de communauté"), 28, "B", 20)
    pdf.ln(8)
    line(_("décerné à"), 14)
    line(certificate.user.display_name, 26, "B", 16)
    if certificate.user.organisation is not None:
        line(certificate.user.organisation.name, 13, "", 9)
    pdf.ln(8)
    line(_("pour avoir suivi le parcours de formation"), 14)
    line(certificate.path.title, 18, "B")
    line(_("le %(date)s", date=format_date(certificate.issued_at, "long")), 13)
    pdf.set_y(pdf.h - 45)
    line(_("Code de vérification : %(code)s", code=certificate.code), 12, "B", 8)
    line(_("Vérifiez ce certificat : %(url)s", url=verify_url), 10, "", 8)
    return bytes(pdf.output())
