"""W1 peer: the same CSV checked and written as JSON with pandas (bench only; not a project dependency).

Usage: python w1_pandas.py INPUT.csv OUTPUT.json
Reads every cell as text, checks the contact email (regex), the contact position (allowed
set, English/French spellings) and the payment period (whole days), drops the bad lines
and writes the others as JSON records.
"""
import sys

import pandas as pd

EMAIL = r"[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+"  # the regex of plugins/values.py
WHOLE_DAYS = r"\d+(?:\.0*)?"
POSITIONS = {"ACCOUNTING", "SALES", "PURCHASER", "PAYER", "BUYER", "COMPTABILITE", "COMPTABILITÉ", "COMPTABLE",
             "VENTE", "VENTES", "COMMERCIAL", "ACHETEUR", "ACHAT", "ACHATS", "PAYEUR"}


def main(source: str, target: str) -> None:
    df = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")
    email = df["Contact email"].str.strip()
    position = df["Contact Position"].str.strip().str.upper()
    period = df["Default payment period"].str.strip()
    ok = (
        ((email == "") | email.str.fullmatch(EMAIL))
        & ((position == "") | position.isin(POSITIONS))
        & ((period == "") | period.str.fullmatch(WHOLE_DAYS))
    )
    good = df[ok]
    good.to_json(target, orient="records", force_ascii=False)
    print(f"{len(df)} lines read: {len(good)} kept, {len(df) - len(good)} rejected.", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
