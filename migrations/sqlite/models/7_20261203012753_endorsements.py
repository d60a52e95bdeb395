"""The permit's endorsement history: the endorsement table, the permit's anchor, receipts of endorsements.

The data step records the endorsement each permit's last_endorsed_on stands for, read as RULES.md
says for an import (inside a window of the issue date: a regular endorsement of that period;
outside every window: a late one, 补办, that becomes the anchor), under the default reading of the
days (rules.endorsement_convention civil_code: window A_n-59 … A_n, 60 days). It is a frozen copy
of models/permit_cycle.py read_import for a permit with no endorsement on record, so that this
migration does the same whatever that module becomes.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True
BATCH = 5000
WINDOW_DAYS = 60


async def upgrade(db: BaseDBAsyncClient) -> str:
    columns = await db.execute_query_dict("SELECT name FROM pragma_table_info('permit')")
    if any(column["name"] == "anchor_on" for column in columns):
        return "SELECT 1;"  # tables made from the current models (initdb adopting them)
    await db.execute_script("""
        CREATE TABLE IF NOT EXISTS "endorsement" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "deadline" DATE NOT NULL,
    "endorsed_on" DATE NOT NULL,
    "kind" VARCHAR(10) NOT NULL /* REGULAR: regular\nLATE: late */,
    "source" VARCHAR(10) NOT NULL /* BOT: bot\nIMPORT: import */,
    "created_at" TIMESTAMP NOT NULL,
    "account_id" INT REFERENCES "account" ("id") ON DELETE RESTRICT,
    "permit_id" INT NOT NULL REFERENCES "permit" ("id") ON DELETE RESTRICT,
    "unit_id" INT REFERENCES "unit" ("id") ON DELETE RESTRICT,
    CONSTRAINT "uid_endorsement_permit__f84c43" UNIQUE ("permit_id", "deadline")
);
        -- SQLite adds a NOT NULL column only with a default; every row gets its value below.
        ALTER TABLE "permit" ADD "anchor_on" DATE NOT NULL DEFAULT '0001-01-01';
        UPDATE "permit" SET "anchor_on" = "issued_on";
        -- SQLite has no ADD CONSTRAINT: the reference comes with the column.
        ALTER TABLE "receipt" ADD "endorsement_id" INT REFERENCES "endorsement" ("id") ON DELETE RESTRICT;""")
    await _endorsements_from_last_endorsed_on(db)
    return "SELECT 1;"


async def _endorsements_from_last_endorsed_on(db: BaseDBAsyncClient) -> None:
    after = 0
    select = (
        'SELECT "id", "issued_on", "last_endorsed_on" FROM "permit" '
        'WHERE "last_endorsed_on" IS NOT NULL AND "id" > ? ORDER BY "id" LIMIT ' + str(BATCH)
    )
    while rows := await db.execute_query_dict(select, [after]):
        for row in rows:
            issued, on = _day(row["issued_on"]), _day(row["last_endorsed_on"])
            reading = _read(issued, on)
            if reading is not None:
                kind, deadline, anchor = reading
                await db.execute_query(
                    'INSERT INTO "endorsement" ("permit_id", "deadline", "endorsed_on", "kind", "source", "created_at") '
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [row["id"], deadline.isoformat(), on.isoformat(), kind, "import", _now()],
                )
                if anchor != issued:
                    await db.execute_query(
                        'UPDATE "permit" SET "anchor_on" = ? WHERE "id" = ?',
                        [anchor.isoformat(), row["id"]],
                    )
        after = rows[-1]["id"]


def _read(issued: date, on: date) -> tuple[str, date, date] | None:
    """(kind, deadline of the period closed, anchor after it), or None for a date on the issue day."""
    if on <= issued:
        return None
    k = 1
    while True:
        deadline = _add_years(issued, k)
        if on < deadline - timedelta(days=WINDOW_DAYS - 1):
            return "late", _add_years(issued, max(1, k - 1)), on
        if on <= deadline:
            return "regular", deadline, issued
        k += 1


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb in a common year: 28 Feb
        return day.replace(year=day.year + years, day=28)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _now() -> Any:
    now = datetime.now(UTC)
    return now.isoformat(" ")


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "permit" DROP COLUMN "anchor_on";
        ALTER TABLE "receipt" DROP COLUMN "endorsement_id";
        DROP TABLE IF EXISTS "endorsement";"""


MODELS_STATE = (
    "eJztXVt3ozgS/is6ftn0OemexLlO9slJ3L2eSeKcxOme3fEcRgbZZoMlj4C4vbv931cSYO"
    "4E2RBjwkt3DCohPonSp6pS6b+tGdGQYX7qqCqaWxCr6J7o2GpdgP+2MJwh9kdakX3QgvO5"
    "X4BfsODIEDJwVViZr0qPTItClVc+hoaJ2CUNmSrV55ZOMJfqgKF9cqSdDe2z44NT9u/B6O"
    "cLsJgiigBFpq4hbJmAPdVYAh2DOaImwZ/AFSFU0zG0ELvJin65+uXjQXsfQBN8Q1dTaAET"
    "Yc0E1hTNPvGWaERlTdHx5C0famP9LxspFpkgdo2yR//+B7usYw19R6b3c/6sjHVkaKEe0D"
    "VegbiuWMu5uNbD1mdRkL/PSFGJYc+wX3i+tKYEr0q7XTBBGFHWZF69RW3eBdg2DLfXvF5x"
    "WuoXcZoYkNHQGNoG70gu7TTAv9ZSlLv+QHnsDhSlFetkTyLQBe4llWA+QFhTTfH2E96Ej+"
    "3D47Pj86PT43NWRDRzdeXsh/NoHxhHUMBzN2j9EPehBZ0SAmMfVPF/DFbWczQZV698BFnW"
    "5CiyHo7VhXYGvysGwhNryn4eHhxkAPm183D1j87DHiv1gT+SsE/Y+cbv3Ftt5x5H20dX03"
    "kbVEsG4aBMMSh7F6oAczsPyu10kNsxjKGmMQVlykAcECkLYV+3bwHifBhngRxD2YAJg/iz"
    "QWCK/nXLR+Adc4EdBDgDz+v+0+VNF9w/dK96j73+HX/KbGn+Zfg3+SV2QbcEBg/dzk0UXP"
    "ZoKXCd8g24ecCdEptKaYeVQA11Qymz3JyhJEUiVgI1RPg4D8DH6fgeC3g5CR4/BxgbvzCC"
    "6vMCUk2J3SFtklY2fmvWnkWvQAwnAjj+hrz9/mqH2KkLIXFr/5UF0KrQa+uedLybNUO11g"
    "zP7LWSP/cutmcC2x5rEF/3xjD2ZKv85bfuuw+P/bvOzYW7zoXGED/d9QYXgD3Ziq6d8+nd"
    "XGo3Q+tGla5tIiq7eAvK1G4BV/zKYg5Nc0GYDp1Ccyo1v0UFqzzaq7TKmNmmpahTiCdI8U"
    "CMA39JiIEgTsY+rYpIF4xYHWX1werK25Lly37/RhBk0yXIl71BBPun28su0zMfwqTZ0/gN"
    "o0vW3Yd5dPdhuu4+jA7z7RrdKgXuSR4tcpKuRE5iOkTXFMZCRogqCKtxlAfoeyr9iwiuBb"
    "c7AVYF7Qx0B93fBiF94aG6d9v57UNoqX3Tv/viFQ/0wtVN/zIVfdlJMy5ZEv7boyinxzkG"
    "++lx6mDnt8JwvyCqs8o0RZdnKUmyhUBeIVJYPOL+MJ1B8xmlLIReG+K+bB2UTGS+PM8zX5"
    "6nz5fnUcyn9jOxlTUM/THB+qFdCg8fQ91gisEgEx0nAJ5qQYnJvW5MKYqxHJSFdiHGlICt"
    "n6jsy1dsbOlGHNlrhoqlz1CK3T8iG0FXc4U/eX/s3tjOoiu92+7joHN7H+Is151Bl99ph1"
    "0D7tW908ioX1UCvvUG/wD8J/hX/054EebEtCZUPNEvN/hXi7cJ2hZRMFlwXRLAxLvsXQr1"
    "NEXQ4H8rq4k2yYeW3eNpdTQ9vxM9P0Osm6QoQoJoHeesok11K9jmU2KRtQBfSdYP76NcHO"
    "EogyMcxTmCypCz1lJqYckCVFnlTBzsBbU+NpbuwNgR3eaO4UzVxh0gipRXLSCxFhus2pdV"
    "AB+MeXfD+MbB/Uwo0if4V7SMedcimLre2Se3mt3C9oc3dryrfhMpXKzcu8EhxV6dvTDyoj"
    "8eBw+9KwZxurvchxphjVATzXhka4KTwZX+/OsDMqB4k1S0u35N9QE9HGQ3nxu6KmDYEKt7"
    "RGe61fHr20H9nguyuW1O0aZg2Y5Zro74UKQiVvWGCD04tdQVJHbBtJKMjDIYDZxKnID8Jx"
    "PtotcoFS2p8Ccf2BF7Dz0p7NIDto/RgLB/Xof30q+qJppfNkrMV+aPFrRs80q431tJUWMp"
    "Rfczo8h8IcUUUq6DX4i9up+m+4LoEjiCAGIQqA4s2JQNrCkl9mS6Dxa6NQWLKQEz8oI0oF"
    "usuMYuLOP7ZYqqNCG27ffgCwtPvXhK648m6G2LQW9uJ8SAzRf25ktX2Yffeny6vO0NBt3r"
    "C2DaI8bTWIuG+Gv3off5n727LxdAmCGXrB+G+KH7tdf9dgEoetHRYog79/cP/a9clA1fys"
    "c6L/NL90pUR9G/kSpqY6Wun65EbayYZqtubZ3rf/JiUFsO8VX/5sYVZBgaQjL6CeZyRbXz"
    "uKLa6a6odix0g1hyoRtu+bfr9larrC+sfL+To9bXsimFJGtoU9oRG1Iu+3hwQpearOKCb+"
    "dgrPjclWFTitCJDU1LdV7A70cMTfHxFrI3XXUerzrX3SxzU5m7M7yFRwLPDqxJ0nl1YA30"
    "OoseTJG3pZuHkQvO6+zuALoJRuwPDVgEsE/+AhCMAIIqo70wgTpvVFOzF6RatJjMEU4CNp"
    "0R+RK124JQfLSZ+BrWoENBuRqSoRo72FxVKMmLQkLFcKKdV1sb7aGMdUi8NzwLYU7eFNgw"
    "uVNdkZsrhcZgDp60EfcJutwS+E/EI5fOgVCkYKG7VH9vzQVZdtCHmqFj1JjxtspXVt2QOK"
    "EmYxuUyZpMd3Aizcq9wCbDCBtxPxb26SYsJNPxi4i9awhrv3f6ofvl6abzwE25E9uAdIhv"
    "GAoXwHB7d/s7p01iUzXFiJvDkr+SrnQ3XPYHF2wtbQ1x7/a+/8B+6LM5oRXZvN7EDqZD3y"
    "xtil7aVMztXvSOEodjyqEakmls6AmoNoGu5Tol/JVRIf6IHRyxeRfWoW81Jd41OnILwPW9"
    "hxAnzFwFoJrfCrSjwGaYgeTCs986PnRH8JYLeJS0qrm6NMGg5mvZdFuar9JzJrlWj0+G9v"
    "H4eDy0z0fq4b4bGcdzTuuWCQK2OaAuGV/l8XY8m/Tew9NN9/HTTGOVHBzAs+O/A6c5P7m6"
    "UpT+NF9+SEl0/QYPHuIh/sZ9nFMGGBt5wqepCxenjqNPYTW79QQuimrAYEEYhiorQsbAEh"
    "XqpkXocoh5wu1nNGdXeMMtQvbBgvKYLcwfYU1Zs1knslEDsclq4KGJUKTiDr2gqNMJn3Hy"
    "dF8M8Z9MiU0JVQj+cx+MKZkxcHR1KprN3lQnmpPuW3zq7NX2eKW6adoI8KXXPiBUPIf/cN"
    "qNgAFNS1gBhjjw+H2G5Pn5KeuOk/bP6IPTE3/yskrAbMRaEayON4PXxCoMVHUhyjgdYQ6x"
    "s94VUZcmB35MKP9AODTcq8wj8hwAmAQYQYu9Hn82qwMDpnsI1eJY6Ww9zddnvA+d7txja+"
    "yfnEd5g8BcDbzGWV0t46/7kWKpDaIhodq5rI/yREgepUdIHsUiJJ2UiZIIm4lzeGEmtTqF"
    "BDTJw8pMHsbnMFn/RkjoXXs3VrRBBr6Q0LuGL0p7ZFBMkt0QzGquiHJiuXtenlbAQ7PTnh"
    "6JwJvt78auqMbYxro/GNOdagKIBH6/Zg1QIsHnTRr42qymnFSGUlR0JVG3PJPtPDS/nU7z"
    "2zGaX/tAkV1Ist+sZctdy/K9AMqYSCmRoEzd1EhjLdgta0EVcgFXG/TikwGLPH2KPPmIyt"
    "VuR/ZRviR/GTn+dvFgrzcCt/hDICia8JM+nc2l8sM5Rbx2wJfgoOBHMSuyE2NYqo6aupSj"
    "AQVqa2RujwnWEPFSUmg4wEkfehkRqyHaJY5v+XkyLFY7pV3MIZghc/7OpV9qrTIoyVr0my"
    "xMke8uNoW7WeBkkzFFxGr32ZUyoYQy7q2zZSexghru3NmRnToeJq9t1UFzS9oJHRF71858"
    "zUaS6PkS7xo4MeeZZlpysAz1HhWsnwm++NVwsxUzHfpmK2bRWzEr18XNrsHqAZqxa3AbG7"
    "GqNmYL3YnVbBzcytkj7n6bONoygW4ZydRrMqQjDpNmQ+CbBwbyA0iSYgHdg0kywv+8EmUG"
    "/P0ujAuOvY+VZEz0D6kYwEt98l7CAH9ut4+OztoHR6fnJ8dnZyfnB6upOX4ra46+7H3h03"
    "SIub4eLPiMljJLObd47bZbHeY6+vAw4+zDw/jhh+mhging7kB4YGViICw0m3u5q/ICHJSp"
    "IcjFe3e42ogD/Mtj/y7FUuaWjxoddNUC/wOGbu4wr08ClSMRsix4YO7ddn6L4nx107+Mmg"
    "x4BZfRtSpNOIA6fVC7xWvnNDnJ5TQ5yXCanCQ7TdbffGS9ue5ozdEqF7xcEPfdteNEdOSH"
    "+LF7N7gAJsLWEH/u9G6499A5Fp7d+7V3fy/cms/6fL6mM7HwIG+XOcY6K9v66UvV0PK5I5"
    "bOXK4s1YCsEzTFxpaeoPBesXFHhZuD16vc19Di1CvJRJBu1A6IvJ1J+6Csqa1ge/b2j3eo"
    "EFMofnfGzJzImiVWIjXyFryJbSK6zZ5SuX1HYanaDe5yYocQD+KVjxjyxZr5tsrzbRM8kP"
    "51NcEDTfBA4+vevq97y4f0ef7GBCdawBWZ7kejgUJN7oxd+rT3M9xhb547o9JRjcVnzxjZ"
    "po4lt5wFZRqvTQ6vjUhLK+O2WQk0fpsN/DYN6U4f8Q3pbki3nIVz22eRV8w6UTS8gbR+cv"
    "DGBRt4myXjNsOjI5kMNwQ4MZvibg3m3EjHNGUOtCMHs26ItlxO0B3FOa4ypSPUy7WEmLqG"
    "WDc9BFLXtBLtIkkF97OtJK6IQqMy0keRnJ2ejfi5IKODC+fsC36ExEcdAxEEAKDzm9jiLA"
    "8NqQakSHv9oJH1q007WdhNNOiVdfeOejlTmnOG37eBp0JRz80hE7sWmNCkjSwxbaTGJyhd"
    "TeA16QAHZWoYe5Ar9CAj8iAK8RoZx5pcY9LhHVNim4hBqEnpirBU7QZz8XZ2Dhh7voORJN"
    "BBudpBXXwsOOfgio4lE7eEpd518pbIYiQvghGxdw2hGE1sHbjOIPTF3vPZPwtCn+cGTDv+"
    "Jxm/kFANVWUJ2S8pgpKrMF+iQTgPwmiGKMNEXcrnGE0QrR/mhWfl3sFjw0akBmeGNQEO+a"
    "CvV4BDzJW5Hc/EI1F1aLCv2qb8s74l2ErMepJYbj/LL2EKCbY2cEWU2UrmVb9EHyMgivMj"
    "q53zt53qwKo6sIAmmENd8w78/g8/2noP4qV36vZYf0F+eTPhQPTyHvOK38KBYiM3RZO/hd"
    "97i/wtVTS4b9GcVsJWQE8x5HTErco3UV1JYUezuUGWcg64oEz9mHJRq5OqTNmWrSFsPSCV"
    "0PA8kVgge5J2iirUL/vq5PyZNecjJ5HAZFJYg5TNhRRM9Qmb6cDeC3HiXaDxASDNdn6EZ0"
    "9KbAuBq4QZueC6X5mGTXVKiMhtgDDlaf6FEa6JHthm9EAVZ9vGvV1LJlO8e9tXKHnh9SVq"
    "CHA5dsGAqo4Bne4jiIi9azcL+j4XJ9ooEwo124lOlUQztYZ3B2xVWOHqBIhESujfzeaD4X"
    "I5AkjHhM78s5oAwSq6ALplAm4yMcFYZ50GFlPkcDQ3WFUEeppTsvCu8hOc9gHEGv8dY4Wl"
    "PGWI51SfcYL5jJZgBp+RCaBLO8HQPjs/RTxmFR6DPQaT/oIoe4S10FUGAxxbjI5CoFJoTv"
    "dZc1ilhDNMfqKUikzzA2uS95ixTk2LlUF/M3nL2PDk5iILQY2bkNyXYm8K4IQNuzTeugkp"
    "zTqKt7ipp4ZRl+k0dWyQhQzQXvkazvLFR/1UMfVWndYAFM2NhJzU6buXVwIb7V7encCKUj"
    "YvUzRmcwiWC80ICa01tiuG+hvEZjZO1HT0GydqCdx7AI1Mg2zofib/tkRJKXPsFaKWzhqq"
    "AZuNKboyhTK26dT2kXW+OOdUGEupbTCi65pJLxNMsAXU94rZVWXfy4TQZWNpbSytNWZZja"
    "W1REvrSodIAByUaUDOA7I3FUhaB6NyjU1wS7yE2iZD9Rti34T1ZIqZOE5OYoWyGYpTXFkg"
    "lZVXbE8gh6nQeQTgIoxVQEuY8YBzVLugGW5eCsY0RNwuWOjWFEAMHm8fAd80xV6QiD8ARt"
    "8tIMZQgrGwtOck8ppA4hHXCtHQmm3Smioaj2oVrvWCqKPc5dfXEdFmgV31BXaThq0cBRYj"
    "CE0iq3XS/lQ397E4CTiBbXknBKcTLO8o4pzZe45OnDQ7Gtjzojh5xJwTV/LhAvDJTXhMjS"
    "VgVIixHAYamouhA+aEYZuSv6egipv0y9WiR41VotzwJNtUVRl8vfK188EfnucB9zwd2/PG"
    "r/NeaaeE/SRGnDY9WT43aaqYYzWNM/1ISS25IU61TCsZXu/4uTs3xKrGCU9/lEmisw2XeS"
    "2Wa1gqx8QwyIITXmePJxmPdbEv1NUx++AZ87DC0RL0GQ3uXSdx6PUqafhytfjy9s2JFeJ0"
    "xRsTTXvE2zVCSVuc2UITQZyycSIkGEF65O6pKIPFeei/rWPpst+/CRG2y15kI/Pd0+1llz"
    "FqAT4rpDt2kPgGUR+5dc4njAo3pxRW+ZRCG2/U2wniTX9Xub+bJXL6TPZul8hlUvQOorqa"
    "mDHGvZNJzaFfpjngry6M+QVRbwNZXsocEKmhnbl9cpInyP3kJD3Ind+LHd4kg7BbvIbolm"
    "LFZ0+0Eo9fSd8jExBpzviT3Caz1cnsx/8B91RQXQ=="
)
