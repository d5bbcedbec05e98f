"""Demo documents: a folder tree in the buyers' network with a Markdown guide, a CSV calendar in
two versions, a small PNG diagram and a PDF template; an inventory in the digital sobriety
community.  The files are generated here (small and valid), through the real operations."""

from __future__ import annotations

import io
import struct
import zlib

from maillage.communities.documents.operations import (
    add_version,
    create_folder,
    upload_document,
)
from maillage.communities.documents.uploads import Upload

GUIDE = """# Guide de l'acheteur public débutant

Bienvenue dans le réseau ! Ce guide rassemble les réflexes à avoir lors de vos premiers marchés.

## Avant de lancer une consultation

- **Définir le besoin** avec les services prescripteurs, sans citer de marque.
- **Sourcer** : rencontrer des entreprises est permis, à égalité de traitement.
- **Estimer** le montant sur toute la durée du marché, reconductions comprises.

## Les seuils à connaître

| Procédure | Fournitures et services (HT) |
|-----------|------------------------------|
| Sans publicité ni mise en concurrence | moins de 40 000 € |
| Procédure adaptée (MAPA) | jusqu'aux seuils européens |
| Appel d'offres | au-delà des seuils européens |

## Clauses sociales et environnementales

Pensez-y dès la définition du besoin : le réseau partage des modèles dans le dossier
« Clauses sociales et environnementales ».

Une question ? Publiez-la dans la communauté, quelqu'un a sûrement déjà eu le cas.
"""

CALENDAR_V1 = """date;sujet;lieu;animation
2026-01-15;Lancement de l'année et priorités;Visioconférence;Camille Laurent
2026-03-12;Clauses environnementales dans les marchés de nettoyage;Bordeaux;Thomas Girard
2026-06-04;Retours d'expérience sur les achats mutualisés;Visioconférence;Paul Garnier
2026-09-17;Veille juridique de la rentrée;Paris;Camille Laurent
"""

CALENDAR_V2 = CALENDAR_V1 + "2026-12-03;Bilan de l'année et programme 2027;Toulouse;Thomas Girard\n"

INVENTORY = """catégorie;nombre;âge moyen (ans);reconditionnables
Ordinateurs portables;420;4,5;130
Postes fixes;180;6,2;40
Écrans;510;5,8;300
Smartphones;260;3,1;90
"""


def _png(width: int, height: int, pixel) -> bytes:
    """A valid RGB PNG whose pixels come from ``pixel(x, y) -> (r, g, b)``."""
    rows = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _diagram(x: int, y: int) -> tuple[int, int, int]:
    """Three boxes joined by a line: a validation circuit, drawn in the brand's blue."""
    for left in (8, 52, 96):
        if left <= x < left + 28 and 16 <= y < 44:
            border = x in (left, left + 27) or y in (16, 43)
            return (0, 0, 145) if border else (227, 227, 253)
    if 28 <= y <= 31 and 36 <= x < 96:
        return (0, 0, 145)
    return (255, 255, 255)


def minimal_pdf(lines: list[str]) -> bytes:
    """A small valid one-page PDF showing ``lines`` in Helvetica (Windows-1252 characters)."""
    text = (
        "BT /F1 14 Tf 60 780 Td 18 TL "
        + " ".join(
            "({}) '".format(line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
            for line in lines
        )
        + " ET"
    )
    data = text.encode("cp1252", errors="replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _file(name: str, data: bytes) -> Upload:
    return Upload(name, io.BytesIO(data))


def load_demo(people, communities, rng) -> None:  # noqa: ARG001 - same signature everywhere
    buyers = communities["acheteurs-publics"]
    guides = create_folder(buyers, people["camille"], "Guides")
    clauses = create_folder(
        buyers, people["camille"], "Clauses sociales et environnementales", guides
    )
    meetings = create_folder(buyers, people["thomas"], "Réunions du réseau")
    upload_document(
        buyers,
        people["camille"],
        _file("guide-acheteur-debutant.md", GUIDE.encode()),
        title="Guide de l'acheteur public débutant",
        description="Les réflexes des premiers marchés : besoin, sourçage, seuils, clauses.",
        folder=guides,
    )
    upload_document(
        buyers,
        people["paul"],
        _file("circuit-validation.png", _png(132, 60, _diagram)),
        title="Schéma du circuit de validation d'un marché",
        description="Prescripteur → acheteur → contrôle de gestion.",
        folder=guides,
    )
    upload_document(
        buyers,
        people["camille"],
        _file(
            "modele-clauses-sociales.pdf",
            minimal_pdf(
                [
                    "Modèle de clause sociale d'insertion",
                    "Article 7 – Exécution du marché",
                    "Le titulaire réserve 5 % des heures travaillées à l'insertion.",
                ]
            ),
        ),
        title="Modèle de clause sociale d'insertion",
        description="À adapter : part des heures, publics éligibles, suivi de l'insertion.",
        folder=clauses,
    )
    calendar = upload_document(
        buyers,
        people["thomas"],
        _file("calendrier-reunions-2026.csv", CALENDAR_V1.encode()),
        title="Calendrier des réunions 2026",
        folder=meetings,
    )
    add_version(
        calendar,
        people["thomas"],
        _file("calendrier-reunions-2026.csv", CALENDAR_V2.encode()),
        "Ajout de la réunion de bilan du 3 décembre",
    )
    sober = communities["numerique-responsable"]
    upload_document(
        sober,
        people["emma"],
        _file("inventaire-parc-2026.csv", INVENTORY.encode()),
        title="Inventaire du parc informatique (exemple)",
        description="Un exemple d'inventaire pour repérer le matériel à reconditionner.",
    )
