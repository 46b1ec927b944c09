"""W2 peer: bare openpyxl read-only iteration of the first sheet, no checks.

Usage: python w2_openpyxl.py INPUT.xlsx
"""
import sys

from openpyxl import load_workbook


def main(source: str) -> None:
    book = load_workbook(source, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = cells = 0
    for row in sheet.iter_rows(values_only=True):
        rows += 1
        cells += len(row)
    book.close()
    print(f"{rows} rows, {cells} cells read", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
