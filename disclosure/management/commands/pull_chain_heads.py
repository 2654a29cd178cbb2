"""Keep the heads of a township's villages outside their data: append them to an anchor file.

python manage.py pull_chain_heads --township 12 --out /srv/township-12/heads.jsonl

Each run appends one line: a heads document (the format of /disclosure/<id>/head.json, see
docs/ledgers.md) with the ledger and journal head of every village under the council. The file
only grows; `verify_ledgers --anchor FILE` later checks that every chain still holds every head
it ever had, so a village whose data was cut back or rewritten is caught even without paper.
Run it from cron (docs/ledgers.md, "Anchors"); keep the file away from the village's database
(the township's own disk or archive).
"""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from councils.models import CouncilPage
from disclosure.anchors import heads_document


class Command(BaseCommand):
    help = "Append the chain heads of every village under a council to an anchor file."

    def add_arguments(self, parser):
        parser.add_argument("--township", type=int, required=True, help="council (page) id")
        parser.add_argument("--out", required=True, metavar="FILE", help="anchor file to append to")

    def handle(self, *args, township, out, **options):
        council = CouncilPage.objects.filter(pk=township).first()
        if council is None:
            raise CommandError(f"no council {township}")
        document = heads_document(council)
        line = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        # Append-only, one line per pull, flushed to disk before we say it is done.
        with open(out, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        villages = len({a["council"] for a in document["anchors"]})
        self.stdout.write(f"{villages} village(s): heads appended to {out}")
