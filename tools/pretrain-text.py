#!/usr/bin/python3
"""Writes the plain text the bench's CLINC150 encoder pretrains two members on
(docs/encoder.md, "Knowledge from a larger Debian text"): one passage per line, lower
case, words of ASCII letters, digits and apostrophes.

- GCIDE (Debian's dict-gcide, unpacked by tools/unpack-deb.sh): one line per entry,
  headword and definitions, without pronunciations (between backslashes) and etymologies
  and sources (in square brackets); entries of fewer than three words are left out;
- WordNet (Debian's wordnet-base): one line per synset, its lemmas then its gloss
  (definition and examples), from data.adj, data.adv, data.noun and data.verb in that
  order.

usage: tools/pretrain-text.py GCIDE_DICT_DZ WORDNET_DIR OUT
"""
import gzip
import os
import re
import sys

WORDNET_FILES = ("data.adj", "data.adv", "data.noun", "data.verb")


def words(text):
    text = re.sub(r"[^a-z0-9']+", " ", text.lower())
    return re.sub(r"\s'|'\s", " ", text).strip()


def gcide(path):
    with gzip.open(path, "rt", encoding="latin-1") as f:
        entries = re.split(r"\n\n(?=\S)", f.read())
    for e in entries:
        e = re.sub(r"\\[^\\\n]*\\", " ", e)     # pronunciations
        e = re.sub(r"\[[^\]]*\]", " ", e)        # etymologies, sources
        e = words(e.replace("{", " ").replace("}", " "))
        if len(e.split()) > 2:
            yield e


def wordnet(directory):
    for name in WORDNET_FILES:
        with open(os.path.join(directory, name), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):          # the licence at the top
                    continue
                head, sep, gloss = line.partition("|")
                if not sep:
                    continue
                fields = head.split()
                count = int(fields[3], 16)
                lemmas = [fields[4 + 2 * i].replace("_", " ") for i in range(count)]
                yield words(" ".join(lemmas) + " " + gloss)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    dz, wn, out = sys.argv[1:]
    for path in (dz, *(os.path.join(wn, n) for n in WORDNET_FILES)):
        if not os.path.isfile(path):
            sys.exit(f"pretrain-text: {path} not found")
    tmp = out + ".tmp"
    n = {"gcide": 0, "wordnet": 0}
    with open(tmp, "w", encoding="ascii") as f:
        for line in gcide(dz):
            f.write(line + "\n")
            n["gcide"] += 1
        for line in wordnet(wn):
            f.write(line + "\n")
            n["wordnet"] += 1
    os.replace(tmp, out)
    print(f"pretrain-text: {out}: {n['gcide']} GCIDE entries, {n['wordnet']} WordNet synsets, "
          f"{os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
