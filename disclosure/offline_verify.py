"""Check a Yishi open-data bundle offline, with nothing but Python 3's standard library.

    python -m disclosure.offline_verify bundle.zip [--head <entry hash from the web or paper>]

This file imports nothing from Django or Yishi, so it can be copied out and run alone
(`python offline_verify.py bundle.zip`). Exit status 0 when everything checks, 1 otherwise; each
problem is printed on its own line. See docs/finance-tools.md for the bundle format.
"""

import argparse
import hashlib
import json
import re
import sys
import zipfile

GENESIS = "0" * 64
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def verify_bundle(path, *, expected_head: str | None = None) -> tuple[list[str], dict]:
    """Return (problems, summary). No problems means the bundle is whole and self-consistent."""
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"not a readable zip file: {error}"], {}
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            return ["manifest.json is missing"], {}
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except ValueError as error:
            return [f"manifest.json is not JSON: {error}"], {}
        if manifest.get("format") != "yishi-open-data-bundle":
            problems.append("manifest.json: not a Yishi open-data bundle")
        listed = manifest.get("files", {})
        for name, digest in sorted(listed.items()):
            if name not in names:
                problems.append(f"{name}: listed in the manifest but missing")
            elif sha256_hex(archive.read(name)) != digest:
                problems.append(f"{name}: its SHA-256 differs from the manifest (changed)")
        for name in sorted(names - set(listed) - {"manifest.json"}):
            problems.append(f"{name}: not listed in the manifest (added)")
        if "chain.json" not in names:
            return [*problems, "chain.json is missing"], {}
        chain = json.loads(archive.read("chain.json"))
        previous = GENESIS
        entries = chain.get("entries", [])
        for expected_position, entry in enumerate(entries, start=1):
            where = f"entry {entry.get('position')} (record {entry.get('record')})"
            if entry.get("position") != expected_position:
                problems.append(f"{where}: expected position {expected_position}")
            for key in ("previous_hash", "content_hash", "entry_hash"):
                if not HEX64.match(str(entry.get(key, ""))):
                    problems.append(f"{where}: {key} is not 64 lowercase hex characters")
            if entry.get("previous_hash") != previous:
                problems.append(f"{where}: does not link to the entry before it")
            recomputed_entry = sha256_hex(
                (str(entry.get("previous_hash")) + str(entry.get("content_hash"))).encode("ascii")
            )
            if recomputed_entry != entry.get("entry_hash"):
                problems.append(f"{where}: entry_hash is not sha256(previous_hash + content_hash)")
            name = f"records/{entry.get('position', 0):05d}-{entry.get('record')}.json"
            if name not in names:
                problems.append(f"{where}: {name} is missing")
            else:
                data = archive.read(name)
                if sha256_hex(data) != entry.get("content_hash"):
                    problems.append(f"{where}: {name} does not hash to its content_hash")
                try:
                    content = json.loads(data)
                except ValueError:
                    problems.append(f"{where}: {name} is not JSON")
                else:
                    if canonical(content) != data:
                        problems.append(f"{where}: {name} is not in canonical form")
                    if content.get("record") != entry.get("record"):
                        problems.append(f"{where}: {name} holds another record")
                    if entry.get("canonical") is not None and (
                        entry["canonical"].encode("utf-8") != data
                    ):
                        problems.append(f"{where}: chain.json and {name} disagree")
            previous = entry.get("entry_hash")
        head = manifest.get("head", {})
        if head.get("entry_hash") != previous or head.get("position") != len(entries):
            problems.append("the manifest's head is not the last entry of the chain")
        if chain.get("head") != head:
            problems.append("chain.json and manifest.json name different heads")
        if expected_head and expected_head.strip().lower() != previous:
            problems.append(
                "the chain's last entry hash differs from the one you gave (web or paper)"
            )
    summary = {
        "council": manifest.get("council"),
        "title": manifest.get("council_title"),
        "entries": len(entries),
        "head": previous,
    }
    return problems, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Yishi open-data bundle offline.")
    parser.add_argument("bundle", help="the .zip downloaded from the ledger page")
    parser.add_argument("--head", help="the chain head hash shown online or on the notice")
    args = parser.parse_args(argv)
    problems, summary = verify_bundle(args.bundle, expected_head=args.head)
    for problem in problems:
        print(f"FAIL  {problem}")
    if summary:
        print(
            f"{summary['title']} (#{summary['council']}): {summary['entries']} entries, "
            f"head {summary['head']}"
        )
    print("OK: the bundle is whole and its chain checks." if not problems else "NOT OK")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
