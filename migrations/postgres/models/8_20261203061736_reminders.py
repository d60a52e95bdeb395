"""Endorsement reminders: the permit's current deadline, indexed for the daily scan, and the
resident's opt-out (提醒).

`deadline_on` is the deadline A_n of the period running now: the first of the anchor's periods
that ends after the last one an endorsement closed. The data step is a frozen copy of
models/permit_cycle.py current_period, so that this migration does the same whatever that module
becomes.
"""

from datetime import date
from typing import Any

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True
BATCH = 5000


async def upgrade(db: BaseDBAsyncClient) -> str:
    columns = await db.execute_query_dict(
        "SELECT column_name AS name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'permit'"
    )
    if any(column["name"] == "deadline_on" for column in columns):
        return "SELECT 1;"  # tables made from the current models (initdb adopting them)
    await db.execute_script("""
        ALTER TABLE "account" ADD "reminders_enabled" BOOL NOT NULL DEFAULT True;
        ALTER TABLE "permit" ADD "deadline_on" DATE;""")
    await _current_deadlines(db)
    return """
        ALTER TABLE "permit" ALTER COLUMN "deadline_on" SET NOT NULL;
        CREATE INDEX IF NOT EXISTS "idx_permit_deadlin_faccad" ON "permit" ("deadline_on");"""


async def _current_deadlines(db: BaseDBAsyncClient) -> None:
    after = 0
    select = (
        'SELECT p."id", p."anchor_on", (SELECT max(e."deadline") FROM "endorsement" e WHERE e."permit_id" = p."id") '
        'AS "through" FROM "permit" p WHERE p."id" > $1 ORDER BY p."id" LIMIT ' + str(BATCH)
    )
    while rows := await db.execute_query_dict(select, [after]):
        values = []
        for row in rows:
            anchor = _day(row["anchor_on"])
            through = _day(row["through"]) if row["through"] is not None else None
            n = 1
            while through is not None and _add_years(anchor, n) <= through:
                n += 1
            deadline = _add_years(anchor, n)
            values.append([deadline, row["id"]])
        await db.execute_many('UPDATE "permit" SET "deadline_on" = $1 WHERE "id" = $2', values)
        after = rows[-1]["id"]


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb in a common year: 28 Feb
        return day.replace(year=day.year + years, day=28)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_permit_deadlin_faccad";
        ALTER TABLE "account" DROP COLUMN "reminders_enabled";
        ALTER TABLE "permit" DROP COLUMN "deadline_on";"""


MODELS_STATE = (
    "eJztXVt3ozgS/is6ftn0OemexLlO9slJ3L2eSeKcxOme3fEcRgbZZoMlj4C4vbv931cSYO"
    "4E2RBjwkt3DCohPgnpU1Wp6r+tGdGQYX7qqCqaWxCr6J7o2GpdgP+2MJwh9kdakX3QgvO5"
    "X4BfsODIEDJwVViZr0qPTItClVc+hoaJ2CUNmSrV55ZOMJfqgKF9cqSdDe2z44NT9u/B6O"
    "cLsJgiigBFpq4hbJmAPdVYAh2DOaImwZ/AFSFU0zG0ELvJin65+uXjQXsfQBN8Q1dTaAET"
    "Yc0E1hTNPvGWaERlTdHx5C0famP9LxspFpkgdo2yR//+B7usYw19R6b3c/6sjHVkaKEe0D"
    "VegbiuWMu5uNbD1mdRkL/PSFGJYc+wX3i+tKYEr0q7XTBBGFHWZF69RW3eBdg2DLfXvF5x"
    "WuoXcZoYkNHQGNoG70gu7TTAv9ZSlLv+QHnsDhSlFetkTyLQBe4llWA+QFhTTfH2E96Ej+"
    "3D47Pj86PT43NWRDRzdeXsh/NoHxhHUMBzN2j9EPehBZ0SAmMfVPF/DFbWczQZV698BFnW"
    "5CiyHo7VhXYGvysGwhNryn4eHhxkAPm183D1j87DHiv1gT+SsE/Y+cbv3Ftt5x5H20dX03"
    "kbVEsG4aBMMSh7F6oAczsPyu10kNsxjKGmsQnKlIE4IFIWwv7cvgWI82GcBXIMZQMmDOLP"
    "BoEp869bPgLvmAvsIMAZeF73ny5vuuD+oXvVe+z17/hTZkvzL8O/yS+xC7olMHjodm6i4L"
    "JHS4HrlG/AzQPulNhUanZYCdRwbihllZszlKRIxEqghggf5wH4OB3fYwEvJ8Hj5wBj4xdG"
    "UH1eQKopsTukTdLKxm/N2rPoFYjhRADH35C339/tEDt1IyRu7b+yAVoVem3fk453s2eo1p"
    "7hmb1W8ufexfZMYNtjDeL73hjGnmyVv/zWfffhsX/Xublw97nQGOKnu97gArAnW9G9c755"
    "N9e0mzHrRidd20RUdvMWlKndBq74ncUcmuaCsDl0Cs2p1PoWFazyaK/SLmNmm5aiTiGeIM"
    "UDMQ78JSEGgjgZ+7QqIl0wYnWU1QerK29Lli/7/RtBkE2XIF/2BhHsn24vu2ye+RAmzd6M"
    "3zC65Ln7MM/cfZg+dx9Gh/l2lW6VAvckzyxykj6JnMTmEF1TGAsZIaogrMZRHqDvqfQvIr"
    "gW3O4CWBW0M9AddH8bhOYLD9W9285vH0Jb7Zv+3ReveKAXrm76l6noyy6accmS8N8eRTk9"
    "zjHYT49TBzu/FYb7BVGdVaYpujxLSZItBPIKkcLiEfeH6QyazyhlI/TaEPdl6zDJRNbL8z"
    "zr5Xn6enkexXxqPxNbWUPRHxOsH9ql8PAx1A02MRhkouMEwFM1KDG515UpRTGWg7LQLkSZ"
    "EtD1E5V9+YqNLd2II3vNULH0GUrR+0dkI+hqrvAn74/dG9tZdKV3230cdG7vQ5zlujPo8j"
    "vtsGnAvbp3Ghn1q0rAt97gH4D/BP/q3wkrwpyY1oSKJ/rlBv9q8TZB2yIKJgs+lwQw8S57"
    "l0I9TRE0+N/KaqFNsqFl93haHU3P70TPzxDrJimKkCBaxzWraFXdCrb5lFhkLcBXkvXD+y"
    "gXRzjK4AhHcY5A0Yy/HDXZdpmDIKuoS5R/Qy2dtynZWSWdyoautdaqEpYsYC2pnI6JvaDW"
    "x8bS7ecdWVzcIZm5tnALlCJl1gxIrEXHqza1FUDIY+b1ML5xcD8TivQJ/hUtY+bNCKauef"
    "zJrWa3sP3hjR3vqt9EChcr+3pwSLFXZy+MPPebx8FD74pBnO6v4EONsEaoiWbctThh8XCl"
    "P//6gAwo3iQV7a5fU31AD3s5zueGrgoYNsTqHtGZbnX8+nZwfs8F2dw2p2hTsGxHL1pHfC"
    "hSEat6Q4QenFrqChK7YFqJ3FYCo4FTiXMi4slEu2i2S0VLyv/MB3bE3kNP8nv1gO1jNCDs"
    "n9fhvfSrqsnML+um50/mjxa0bPNK+D+0ktz2UoruZ7rx+UKKKaRcDwsh9uqBpu4LokvgCA"
    "KIQaA6sGBLNrCmlNiT6T5Y6NYULKYEzMgL0oBuseIau7CMH1gqqtIE58Lfgy8sdmHiKa0/"
    "Gq/DLXodup0QAzaf36EvXWUnitbj0+VtbzDoXl8A0x4xnsZaNMRfuw+9z//s3X25AEIPvG"
    "T9MMQP3a+97rcLQNGLjhZD3Lm/f+h/5aJs+FI+1nmZX7pXojqK/o1UURsrdf10JWpjxTRb"
    "dWvrXP+TF4Pacoiv+jc3riDD0BCS0U8wly2wnccW2E63BbZjvjPEkvOdccu/Xbe3WmV9Ye"
    "Ub/pxpfS2dUkiyhjqlHdEh5TJQBBd0qcUqLvh2Ft6Kr10ZOqUIndhQtVTnDfx+RNEUH28h"
    "fdNV5/Gqc93NUjeVeTzG23gk8OzAniSdVwf2QK+z6MEUeWfquR+/4LzO8Rqgm2DE/tCARQ"
    "D75C8AwQggqDLaCxOo80Y1NYdxqkWLyRzhJGDTGZEvUbszIMW7+4mvYQ06FJSrIRmqsYHN"
    "nQoleVFIqBhOtPPT1kaHWGMdEu8NT0OYkzcFTqzuVFfk5kqhMZiDJ23EfYImtwT+E7HIpX"
    "MgFClY6DHh31tzQZYd9KFm6Bg1aryt8pVVNyQuqMnYBmWyFtMdXEizgl+wxTDCRtyPhX26"
    "CRvJdPwiYu8awtofXn/ofnm66TxwVe7ENiAd4huGwgUw3N7d/tF1k9hUTVHi5tDkr6Qr3Q"
    "2X/cEF20tbQ9y7ve8/sB/6bE5oRaIHNL6D6dA3W5uitzYVM7sXfaTH4ZhyqIZkGh16AqqN"
    "o2u5Rgl/Z1SIPWIHR2zejXXoW03xd42O3AJwfe8uxAkrVwGo5tcC7SiwGWogOffst/YP3R"
    "G85RweJbVq7lyaoFDzZ9l0XZo/peeMMq4enwzt4/HxeGifj9TDfdczjgf91i0TBHRzQF0y"
    "vsr97Xg4772Hp5vu46eZxio5OIBnx38HTnN+cudKUfrTfPkhJdL4Gzx4iIf4G7dxThlgbO"
    "QJm6YuTJw6jj6F1ezWE7goqgGDBWEYqqwIGQNLVKibFqHLIeYRz5/RnF3hDbcI2QcLyn22"
    "MH+ENWXNZp3IRg3EJquBuyZCEQs99IKiTsd9xgmUfjHEf7JJbEqoQvCf+2BMyYyBo6tT0W"
    "z2pjrRnHjr4lNnr7bHK9VN00aAb732AaHiOfyH024EDGhaQgswxIHH7zMkz89PWXectH9G"
    "H5ye+JOXVQJqI9aKYHW8GbwmVmGgqgtRxukIc4id/a7wujQ58GNC+QfCoeFWZe6R5wDAJM"
    "AIWuz1+LNZHRiwuYdQLY6VzvbTfH/G+9Dpzj22x/7JeZQ3CMzVwGuM1dVS/rofKZY6oRsS"
    "qp3J+iiPh+RRuofkUcxD0olZKYmwmbiGF6ZSq5NLQBO9rczobXwNk7VvhITetXVjRRtk4A"
    "sJvWv4PEOjJIARsfIh3IL7QU4Eo8RRBsYk2Q2xrOaeMieWu2cnawVsXDttK5NwXdr+efaK"
    "zrnb0JwEveJTlSgR1/nX9ClKxH2/yWRQm/2oE41TisyvJOoWKrWdZ6PUTt8otWMbpdq72u"
    "xCnohGG1CuNoCfplDGRGoSCcrUbRpp9C27pW+pQjjraoNefDxrEWpSkScfUbnanWk/yhen"
    "MiNM5S7mpnsjcIvPY0LRhCerdY7nyg/nFPHaAV+CiYdnE1dkF8awVB1n6lKyWwrU1kg+EB"
    "OsIeKlBCFxgJPO2xoRqyHaJY5v+XUyLFa7SbuYPK4hdf7OBbBqrWJQyWr0mzhWke8utoS7"
    "cfRkw1lFxGr32ZWyoIRiFq5z6CmxghqefdqRs04eJq8ddkJzS9oIHRF73+4QtrQnhP12Th"
    "AVBk6seaaZFl4tY3qPCtZPBV/8brg5zJoOfXOYtejDrJXr4ubcZfUAzTh3uY2jbFUbs4We"
    "ZWuOXm4le4t7YimOtoyjW0Y4+poM6YjBpDlS+eaOgTyFS5IvoJvaJcP9zytRpsPf70K54O"
    "j7WEnGRP+Q8gG81CfvxQ3w53b76OisfXB0en5yfHZ2cn6wWprjt7LW6MveF75Mh5jr686C"
    "z2gps5Vzi9fuwNphruydhxnpOw/j+TvTXQVTwN0B98DK+EBYaDb3on/lBTgoU0OQi7fu8G"
    "kjDvAvj/27FE2ZWz6qdNBVC/wPGLq5w7w+CVSOREiz4IG5d9v5LYrz1U3/Mqoy4BVcRveq"
    "NCGHevqgdovXzmhykstocpJhNDlJNpqsf/jIevO5ozVHq2j6ck7cd9eOEdGRH+LH7t3gAp"
    "gIW0P8udO74dbDMdQNbnR8/LV3fy/Mms/6fL6mMbFwJ2+XOcY6K1v76UvVUPO5I5rOXKYs"
    "1YCsEzTFxpaeMOG9ouOOChfQ2dXcV9air6HFqVeSiiBdqR0QeTuV9kFZS1vB+uztJ8ioEF"
    "Mo/nTGzJzIqiVWIjWyFryJbiJ6zJ5SuXNHYanaDe5yfIcQd+KV9xjyxZr1tsrrbeM8kP51"
    "Nc4DjfNAY+vevq17y2kOPXtjghEtYIpMt6PRQKEmdsYufdr7GeawN4+dUWmvxuKjZ4xsU8"
    "eSR86CMo3VJofVRgT2lTHbrAQau80GdpuGdKeP+IZ0N6RbTsO57WzuFdNOFA1vIKyfHLxx"
    "wQbeZsu4TffoSCTDDQFOjKa4W4M5N9KxmTIH2pHUthuiLRcTdEdxjk+Z0h7q5WpCTF1DrJ"
    "seAqFrWol6kaSC+9laEldEoVEZ6WQuZ6dnI55ZZXRw4WQP4Uk4PuoYCCcAAJ3fxBbZUDSk"
    "GpAi7fVULetXm5ab2Q006JV1z456MVOaTM3vW8FTIa/nJk3HrjkmNGEjSwwbqfEFSlcTeE"
    "06wEGZGvoe5HI9yPA8iEK8RsSxJtaYtHvHlNgmYhBqUnNFWKp2g7l4PTsHjD3fwUgS6KBc"
    "7aAu3hecc3BFx5KBW8JS7zp4S2QzkhfBiNi7hlCMJrYPXGcQ+mLvOffPgtDnuQHT0v8k4x"
    "cSquFUWUL0S4qg5C7Ml2gQzoMwmiHKMFGX8jFGE0Trh3nhUbl3MG3YiNQgZ1jj4JAP+no5"
    "OMRMmduxTDwSVYcG+6ptyj/rW4KtxKgnieX2s+wSppBgewNXRJmtZF61S/QxAqI4T/rtZD"
    "B3qgOr6sACmmAOdc1Lmf4fnhx8D+Kll7d8rL8gv7yZkFK+vMe8YrdwoNjITNHEb+H33iJ+"
    "SxUV7ltUp5VwFNCbGHIa4lblG6+uJLej2dwgSzkDXFCmfky5qN1JVZZsy9YQth6QSmh4nU"
    "gskL1IO0UV6pd9dXH+zJrzkZNIYDIprEHK1kIKpvqErXRg74U4/i7Q+ACQZjs/wqsnJbaF"
    "wFXCilxw3a8sw6Y6JUTENkCY8jD/QgnXeA9s03ugiqttY96uJZMp3rztTyh54fUlaghwOX"
    "rBwFQdAzrdRhARe9dmFvR9LjLaKBMKNdvxTpVEM7WGdwdsVVjhKgNEIiX072bzwXC5HA6k"
    "Y0Jnfq4mQLCKLoBumYCrTEww1lmngcUUORzNdVYVjp7mlCy8qzyD0z6AWOO/Y6ywlKcM8Z"
    "zqM04wn9ESzOAzMgF0aScY2mfnp4j7rMJjsMdg0l8QZY+wFrrKYIBji9FRCFQKzek+aw6r"
    "lHCGyTNKqcg0P7AmeY8Z69S0WBn0N5O3jA1Pri6yENS4Csl9KfamAE7YsEvjrZuQ0qxUvM"
    "UtPTX0ukynqWODLGSA9srXcJUv3uuniqG36rQHoGhuJMSkTj+9vBLY6PTy7jhWlHJ4maIx"
    "W0OwnGtGSGitsV0x1N/AN7Mxoqaj3xhRS+DeA2hkKmRD9zP5tyVKSqljrxC1dNZQDdhsTN"
    "GVKpSxTae2j6zzRZ5ToSyltsGIrqsmvUxQwRZQ3ytqV5V9LxNCl42mtdG01phlNZrWEjWt"
    "qzlEAuCgTANyHpC9pUBSOxiVa3SCW+Il1DYZqt8Q+yasJ1OsxHFyEiuUzVCc4soCqay8Yn"
    "sCOVSFziMAF2GsAlpCjQecVO2CZrhxKRjTEH67YKFbUwAxeLx9BPzQFHtBIv4AGH23gBhD"
    "CcrC0p6TyGsCgUdcLURDa7ZJa6qoPKqVu9YLos7kLr+/jog2G+yqb7CbMGzlTGAxgtAEsl"
    "on7E91Yx+LTMAJbMvLEJxOsLxUxDmj9xydOGF2NLDneXFyjznHr+TDBeCLm7CYGkvAqBBj"
    "OQw0NBdDB8wJwzYlfk9BFTfhl6tFjxqtRLnuSbapqjL4euVrZ4M/PM8D7nk6tueNXee90k"
    "4J/UmMOG2aWT43aaqYYTWNM/1ICS25IU61DCsZ3u/4sTs3xKrGAU9/lEmisxWXeTWWa2gq"
    "x8QwyIITXueMJxmPdXEu1J1j9sEz5m6FoyXoMxrcu07i0OtV0vDlavHl7asTK8Tpilcmmv"
    "aIt2uEko44s40mgjjl4ERIMIL0yD1TUQaL89B/W8PSZb9/EyJsl73IQea7p9vLLmPUAnxW"
    "SHf0IPEDoj5y6+QnjAo3WQqrnKXQxhv1doJ4099V7u9mi5y+kr3bLXKZFL2DqK4mRoxx72"
    "RSc+iXaRL81YUxvyDqHSDLS5kDIjXUM7dPTvI4uZ+cpDu583ux5E0yCLvFa4huKVp89kQr"
    "Mf1K+hmZgEiT40/ymMxWF7Mf/wdVNDXo"
)
