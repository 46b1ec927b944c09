"""W5 peer: a plain sequential loop, one PUT per document, with one httpx client (keep-alive).

Usage: python w5_sequential.py DOCUMENTS.json URL
DOCUMENTS.json is what `etl run --sink json` wrote for the same file: {"customers": [...], "contacts": [...]}.
Each document goes to URL/customers/{external_id or name} or URL/contacts/{email}, as JSON
without its null fields, like the http sink sends it.
"""
import json
import sys
from urllib.parse import quote

import httpx

KEYS = {"customers": lambda d: d.get("external_id") or d.get("name") or "", "contacts": lambda d: d["email"]}


def main(source: str, url: str) -> None:
    with open(source, encoding="utf-8") as handle:
        documents = json.load(handle)
    sent = 0
    with httpx.Client(timeout=10.0, trust_env=False) as client:
        for kind in ("customers", "contacts"):
            for doc in documents.get(kind, []):
                body = json.dumps({k: v for k, v in doc.items() if v is not None}, ensure_ascii=False).encode()
                response = client.put(f"{url}/{kind}/{quote(KEYS[kind](doc), safe='')}", content=body,
                                      headers={"Content-Type": "application/json"})
                response.raise_for_status()
                sent += 1
    print(f"{sent} documents sent.", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
