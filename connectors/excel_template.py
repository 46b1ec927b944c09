"""The Excel import template: styled header, column widths, drop-down lists, and a sheet that
explains each column."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from etl import Field

SHEET_TITLES = {"en": ("Import", "Columns"), "fr": ("Import", "Colonnes")}
GUIDE_HEADER = {"en": ("Column", "What to enter", "Allowed values"),
                "fr": ("Colonne", "Contenu attendu", "Valeurs permises")}
ROWS_WITH_LISTS = 10_000
"""How many rows of the template get the drop-down lists."""


def write_template(path: Path, fields: Sequence[Field], lang: str) -> None:
    """An empty import workbook with every field's column title in ``lang``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title, guide_title = SHEET_TITLES.get(lang, SHEET_TITLES["en"])
    titles = [f.labels.get(lang) or f.labels["en"] for f in fields]
    sheet.append(titles)
    header_font, header_fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="305496")
    for column, (title, field) in enumerate(zip(titles, fields), start=1):
        cell = sheet.cell(row=1, column=column)
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(vertical="center")
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(len(title) + 4, 14)
        if field.choices:
            listing = DataValidation(type="list", formula1='"' + ",".join(field.choices) + '"', allow_blank=True)
            listing.error = f"{title}: {', '.join(field.choices)}"
            sheet.add_data_validation(listing)
            listing.add(f"{letter}2:{letter}{ROWS_WITH_LISTS + 1}")
        if field.as_text:
            sheet.column_dimensions[letter].number_format = "@"  # Excel keeps leading zeros as typed
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet(guide_title)
    guide.append(GUIDE_HEADER.get(lang, GUIDE_HEADER["en"]))
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for title, field in zip(titles, fields):
        guide.append([title, field.describe(lang), ", ".join(field.choices)])
    for letter, width in zip("ABC", (34, 80, 40)):
        guide.column_dimensions[letter].width = width
    workbook.save(path)
