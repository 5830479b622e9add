#!/usr/bin/env python3
"""Writes tests/data/validator_vectors.tsv: check-digit test vectors from an independent
implementation (python-stdnum), for the validators in src/detect/validators.rs.

Why: a check-digit table typed in wrong passes every test whose expected values were computed
with the same table (the Aadhaar Verhoeff table had a wrong row until 2026-12-02, and its tests
agreed with it). These vectors come from another implementation, so the unit test
`validators::tests::agree_with_python_stdnum` catches that class of bug.

Every value is random (fixed seed), half of them given a correct check digit by search; none
is copied from anywhere. Run (dev machines only; the test reads the committed file):

    pip install python-stdnum==2.2 && python3 scripts/gen_validator_vectors.py
"""
import random, string

from stdnum import iban, luhn
from stdnum.au import tfn
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import rtn

R = random.Random(20261202)
D = string.digits
N = 60  # per kind


def digits(n):
    return "".join(R.choice(D) for _ in range(n))


def fix_last(body, alphabet, ok):
    """`body` plus a last character that `ok` accepts, if any; else body plus a random one."""
    good = [c for c in alphabet if ok(body + c)]
    return body + (R.choice(good) if good else R.choice(alphabet))


def draw(make_body, alphabet, ok, fmt=lambda v: v):
    """Half valid by construction, half with a random last character."""
    out = []
    for i in range(N):
        body = make_body()
        v = fix_last(body, alphabet, ok) if i % 2 == 0 else body + R.choice(alphabet)
        out.append((fmt(v), ok(v)))
    return out


def date6():
    y, m, d = R.randint(0, 99), R.randint(1, 12), R.randint(1, 28)
    return f"{d:02d}{m:02d}{y:02d}", f"{y:02d}{m:02d}{d:02d}"


def idnr_body():
    """Ten digits, the first not 0, one digit twice and the rest once (the allocation rule)."""
    ds = R.sample(D, 9)
    ds.append(R.choice(ds))
    R.shuffle(ds)
    if ds[0] == "0":
        i = next(i for i, d in enumerate(ds) if d != "0")
        ds[0], ds[i] = ds[i], ds[0]
    return "".join(ds)


def pesel_body():
    # ragsan also rejects births after 2030 (and before 1900): no living person has them.
    y, m, d = R.randint(1900, 2025), R.randint(1, 12), R.randint(1, 28)
    mm = m + (20 if y >= 2000 else 0)
    return f"{y % 100:02d}{mm:02d}{d:02d}" + digits(4)


def cf_body():
    L = string.ascii_uppercase
    month = R.choice("ABCDEHLMPRST")
    day = R.randint(1, 71)
    return ("".join(R.choice(L) for _ in range(6)) + digits(2) + month + f"{day:02d}"
            + R.choice(L) + digits(3))


def iban_body():
    country, bban = R.choice([
        ("DE", lambda: digits(18)),
        ("GB", lambda: "".join(R.choice(string.ascii_uppercase) for _ in range(4)) + digits(14)),
        ("AT", lambda: digits(16)),
        ("CH", lambda: digits(17)),
    ])
    return country, bban()


def ibans():
    out = []
    for i in range(N):
        country, bban = iban_body()
        check = iban.calc_check_digits(country + "00" + bban)
        if i % 2 == 1:
            check = f"{(int(check) + R.randint(1, 96)) % 97 + 2:02d}"
        v = country + check + bban
        out.append((v, iban.is_valid(v)))
    return out


def nirs():
    out = []
    for i in range(N):
        body = R.choice("12") + digits(2) + f"{R.randint(1, 12):02d}" + f"{R.randint(1, 95):02d}" + digits(6)
        key = nir.calc_check_digits(body)
        if i % 2 == 1:
            key = f"{(int(key) + R.randint(1, 96)) % 97 + 1:02d}"
        v = body + key
        out.append((v, nir.is_valid(v)))
    return out


ABA_PREFIX = [f"{p:02d}" for p in [*range(0, 13), *range(21, 33), *range(61, 73), 80]]

KINDS = {
    "luhn": draw(lambda: R.choice("3456") + digits(14), D, luhn.is_valid),
    "iban": ibans(),
    "uk_nhs": draw(lambda: digits(9), D, nhs.is_valid),
    "ca_sin": draw(lambda: R.choice("1234567") + digits(7), D, sin.is_valid),
    "au_tfn": draw(lambda: R.choice("123456789") + digits(7), D, tfn.is_valid),
    # ragsan also checks the Federal Reserve prefix (00-12, 21-32, 61-72, 80); stdnum does not.
    "aba_routing": draw(lambda: R.choice(ABA_PREFIX) + digits(6), D, rtn.is_valid),
    "de_steuer_id_strict": draw(idnr_body, D, idnr.is_valid),
    "es_dni": draw(lambda: digits(8), "TRWAGMYFPDXBNJZSQVHLCKE", dni.is_valid)
    + draw(lambda: R.choice("XYZ") + digits(7), "TRWAGMYFPDXBNJZSQVHLCKE", nie.is_valid),
    "it_codice_fiscale": draw(cf_body, string.ascii_uppercase, codicefiscale.is_valid),
    "pl_pesel": draw(pesel_body, D, pesel.is_valid),
    "fi_hetu": draw(lambda: date6()[0] + R.choice("-A") + f"{R.randint(2, 899):03d}",
                    "0123456789ABCDEFHJKLMNPRSTUVWXY", hetu.is_valid),
    "se_personnummer": draw(lambda: date6()[1] + "-" + digits(3), D, personnummer.is_valid),
    "aadhaar": draw(lambda: R.choice("23456789") + digits(10), D, aadhaar.is_valid),
    "fr_nir": nirs(),
}

with open("tests/data/validator_vectors.tsv", "w") as f:
    f.write("# kind\tvalue\tvalid (python-stdnum 2.2); generated by scripts/gen_validator_vectors.py\n")
    for kind, rows in KINDS.items():
        for v, ok in rows:
            f.write(f"{kind}\t{v}\t{int(bool(ok))}\n")
print(sum(len(r) for r in KINDS.values()), "vectors")
