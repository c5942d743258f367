"""Synthetic territories at the scales of the brief, for benchmarks (not for tests).

    .venv/bin/python -m bench.synth --scale large --url sqlite:////tmp/carte_bench/large.sqlite3
    .venv/bin/python -m bench.synth --scale national --url postgresql+psycopg://postgres@127.0.0.1/carte_bench

Each territory has structures of realistic types with a few very central ones (CAF, CCAS,
SIAO…: partner choice weighted by a power-law "popularity") and local groups (partners
chosen three times more often in the respondent's own group), professionals, invitations,
two yearly campaigns with ~75 % submitted responses, declared links (nature, frequency,
quality, 1–3 practices, a thématique on 40 %, a frame or channel) and obstacles.

Rows are generated with numpy per territory and written in bulk: COPY on PostgreSQL (foreign
key triggers off during the load), executemany on SQLite. The schema comes from the
migrations. Names are synthetic ("Structure 12-3", "Pro 12-45"): no real person.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from survey import migrate, tagbits, vocab
from survey.db import make_engine


@dataclass(frozen=True)
class Scale:
    territories: int
    structures: int  # per territory
    professionals: int  # per territory
    partners: float  # mean partners named per respondent
    years: tuple[int, ...] = (2025, 2026)


SCALES = {
    "creuse": Scale(1, 60, 400, 15),
    "large": Scale(1, 400, 5000, 15),
    # 101 × 4,950 ≈ 500,000 professionals; × 75 % respondents × 13.5 partners × 2 years ≈ 10 M links.
    "national": Scale(101, 400, 4950, 13.5),
}

TYPES = ["caf", "ccas-cias", "siao", "mutualite-sociale-agricole", "mission-locale", "france-travail",
         "cpam", "carsat", "udaf", "services-departement", "chrs", "association", "sante",
         "bailleur-social", "education-nationale", "autre"]  # fmt: skip
PRACTICES = list(vocab.PRACTICES)
THEMATIQUES = list(vocab.THEMATIQUES)
FRAMES = list(vocab.FRAMES)
CHANNELS = list(vocab.CHANNELS)
FREQUENCIES = list(vocab.FREQUENCIES)
OBSTACLES = [c for c in vocab.OBSTACLES if c != "other"]
NATURES = ["formal", "informal", "both"]
STAMP = "2026-01-15 00:00:00.000000"

COLUMNS = {
    "territory": ["id", "code", "name", "created_at"],
    "campaign": ["id", "territory_id", "year", "status", "introduction", "created_at"],
    "organisation": ["id", "territory_id", "name", "type", "commune", "missions", "status", "created_at"],
    "professional": ["id", "territory_id", "full_name", "email", "function", "organisation_id", "active", "created_at"],
    "invitation": ["id", "campaign_id", "professional_id", "nonce", "token_hash", "created_at"],
    "response": ["id", "campaign_id", "professional_id", "organisation_id", "status", "questionnaire_version",
                 "function", "declared_partner_count", "obstacle_other", "body_other", "comment",
                 "created_at", "updated_at", "submitted_at"],
    "responseobstacle": ["response_id", "code"],
    "declaredlink": ["id", "response_id", "position", "partner_organisation_id", "status", "nature",
                     "frequency", "practice_other", "contact_name", "contact_consent", "quality", "tag_bits"],
    "linktag": ["link_id", "kind", "code"],
}  # fmt: skip


class Ids:
    """Explicit ids, so rows can reference each other before they are written."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.next.get(table, 1)
        self.next[table] = start + n
        return np.arange(start, start + n)


def _tag_patterns(rng: np.random.Generator, n: int = 256) -> list[list[tuple[str, str]]]:
    patterns = []
    for _ in range(n):
        tags = [
            ("practice", c) for c in rng.choice(PRACTICES, size=rng.integers(1, 4), replace=False)
        ]
        if rng.random() < 0.4:
            tags.append(("thematique", str(rng.choice(THEMATIQUES))))
        tags.append(
            ("frame", str(rng.choice(FRAMES)))
            if rng.random() < 0.5
            else ("channel", str(rng.choice(CHANNELS)))
        )
        patterns.append(tags)
    return patterns


def territory_rows(ti: int, scale: Scale, ids: Ids, seed: int) -> dict[str, list[tuple]]:
    """Every row of one territory, as tuples in COLUMNS order."""
    rng = np.random.default_rng(seed + ti)
    rows: dict[str, list[tuple]] = {t: [] for t in COLUMNS}
    (tid,) = ids.take("territory", 1)
    code = f"B{ti:03d}"
    rows["territory"].append((int(tid), code, f"Territoire synthétique {ti}", STAMP))
    campaign_ids = ids.take("campaign", len(scale.years))
    for cid, year in zip(campaign_ids, scale.years, strict=True):
        status = "open" if year == scale.years[-1] else "closed"
        rows["campaign"].append((int(cid), int(tid), year, status, "", STAMP))

    n_org, n_pro = scale.structures, scale.professionals
    org_ids = ids.take("organisation", n_org)
    org_types = rng.choice(TYPES, size=n_org)
    org_types[: len(TYPES)] = TYPES  # every type present
    groups = rng.integers(0, max(1, n_org // 25), size=n_org)  # local groups of ~25
    popularity = (rng.pareto(1.5, size=n_org) + 1) ** 1.2
    for i, oid in enumerate(org_ids):
        rows["organisation"].append((int(oid), int(tid), f"Structure {ti}-{i}", str(org_types[i]),
                                     f"Commune {int(groups[i])}", "", "active", STAMP))  # fmt: skip
    # Each structure works with a pool of partners (popularity × 3 inside its local group);
    # its professionals name partners from that pool, so colleagues share partners.
    pool_size = min(n_org - 1, int(2.5 * scale.partners))
    pools = np.empty((n_org, pool_size), dtype=np.int64)
    pool_p = np.empty((n_org, pool_size))
    for i in range(n_org):
        w = popularity * np.where(groups == groups[i], 3.0, 1.0)
        w[i] = 0.0
        pools[i] = rng.choice(n_org, size=pool_size, replace=False, p=w / w.sum())
        pool_p[i] = popularity[pools[i]] / popularity[pools[i]].sum()

    pro_ids = ids.take("professional", n_pro)
    # Larger structures (more popular) employ more professionals.
    pro_org = rng.choice(n_org, size=n_pro, p=np.sqrt(popularity) / np.sqrt(popularity).sum())
    active = rng.random(n_pro) > 0.08
    for j, pid in enumerate(pro_ids):
        rows["professional"].append((int(pid), int(tid), f"Pro {ti}-{j}", f"pro{ti}-{j}@bench.invalid",
                                     "Travailleur social", int(org_ids[pro_org[j]]), bool(active[j]), STAMP))  # fmt: skip

    patterns = _tag_patterns(rng)
    pattern_bits = [tagbits.tag_bits(p) for p in patterns]  # written with the tags, as the app does
    for cid in campaign_ids:
        inv_ids = ids.take("invitation", n_pro)
        for k, (iid, pid) in enumerate(zip(inv_ids, pro_ids, strict=True)):
            token = f"{int(cid):08x}{k:08x}{rng.integers(1 << 62):016x}"
            rows["invitation"].append(
                (int(iid), int(cid), int(pid), token[:32], (token * 2)[:64], STAMP)
            )
        responding = np.flatnonzero(rng.random(n_pro) < 0.75)
        resp_ids = ids.take("response", len(responding))
        counts = np.clip(rng.poisson(scale.partners, size=len(responding)), 1, pool_size)
        for rid, j, k in zip(resp_ids, responding, counts, strict=True):
            rows["response"].append((int(rid), int(cid), int(pro_ids[j]), int(org_ids[pro_org[j]]), "submitted",
                                     vocab.QUESTIONNAIRE_VERSION, "Travailleur social", int(k), "", "", "",
                                     STAMP, STAMP, STAMP))  # fmt: skip
            for code in rng.choice(OBSTACLES, size=rng.integers(0, 3), replace=False):
                rows["responseobstacle"].append((int(rid), str(code)))
        total = int(counts.sum())
        link_ids = ids.take("declaredlink", total)
        owner = np.repeat(np.arange(len(responding)), counts)
        partners = np.empty(total, dtype=np.int64)
        start = 0
        for j, k in zip(responding, counts, strict=True):
            o = pro_org[j]
            partners[start : start + k] = rng.choice(pools[o], size=k, replace=False, p=pool_p[o])
            start += k
        natures = rng.choice(NATURES, size=total, p=[0.3, 0.5, 0.2])
        freqs = rng.choice(FREQUENCIES, size=total)
        quality = rng.integers(0, 5, size=total)  # 0 = not answered
        pattern = rng.integers(0, len(patterns), size=total)
        status = "confirmed" if cid != campaign_ids[0] else "new"
        for n in range(total):
            lid = int(link_ids[n])
            rows["declaredlink"].append((lid, int(resp_ids[owner[n]]), n, int(org_ids[partners[n]]), status,
                                         str(natures[n]), str(freqs[n]), "", "", False,
                                         int(quality[n]) or None, pattern_bits[pattern[n]]))  # fmt: skip
            for kind, code in patterns[pattern[n]]:
                rows["linktag"].append((lid, kind, code))
    return rows


def _copy_text(rows: list[tuple]) -> bytes:
    def cell(v: object) -> str:
        if v is None:
            return r"\N"
        if isinstance(v, bool):
            return "t" if v else "f"
        return str(v)

    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join(cell(v) for v in row))
        buf.write("\n")
    return buf.getvalue().encode()


def write(engine: Engine, rows: dict[str, list[tuple]]) -> None:
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SET session_replication_role = replica")  # no FK triggers during the load
            for table, cols in COLUMNS.items():
                if rows[table]:
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        copy.write(_copy_text(rows[table]))
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            dbapi = conn.connection.driver_connection
            for table, cols in COLUMNS.items():
                if rows[table]:
                    dbapi.executemany(
                        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        rows[table],
                    )


def _fix_sequences(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table, cols in COLUMNS.items():
            if "id" in cols:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
        conn.execute(text("ANALYZE"))


def generate(
    url: str, scale_name: str, seed: int = 42, territories: int | None = None, quiet: bool = False
) -> dict:
    """Create (migrate) the database at `url` and fill it; it must be empty. Returns counts."""
    scale = SCALES[scale_name]
    n_terr = territories or scale.territories
    migrate.upgrade(url)
    engine = make_engine(url)
    ids = Ids()
    t0 = time.perf_counter()
    for ti in range(n_terr):
        write(engine, territory_rows(ti, scale, ids, seed))
        if not quiet and (ti % 10 == 9 or ti == n_terr - 1):
            print(
                f"  {ti + 1}/{n_terr} territoires, {ids.next.get('declaredlink', 1) - 1:,} liens, {time.perf_counter() - t0:.0f} s",
                flush=True,
            )
    _fix_sequences(engine)
    engine.dispose()
    return {t: n - 1 for t, n in ids.next.items()} | {"seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description="Générer un territoire synthétique pour les mesures.")
    p.add_argument("--scale", choices=sorted(SCALES), required=True)
    p.add_argument("--url", required=True, help="base vide (SQLite ou PostgreSQL)")
    p.add_argument(
        "--territories", type=int, help="nombre de territoires (défaut : celui de l'échelle)"
    )
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    print(generate(args.url, args.scale, args.seed, args.territories))


if __name__ == "__main__":
    main()
