"""ID numbers belong to verified accounts (issue 8): `id_number_hash` becomes a claim that several
accounts may make, and the new `verified_id_hash` the unique holder, set by real-name verification.

Written by hand over aerich's diff. aerich would have dropped the unique constraint by an index
name it computes, but the constraint came with the column ("id_number_hash" VARCHAR(64) UNIQUE) and
PostgreSQL named it account_id_number_hash_key; its DROP INDEX would have changed nothing. So the
unique column is renamed to verified_id_hash (the constraint goes with it), the claim column
is added under the old name, every account keeps its number as a claim, and only the verified
ones stay holders. A table made from the current models (initdb adopting it) is left alone.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    columns = await db.execute_query_dict(
        "SELECT column_name AS name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = 'account'"
    )
    if any(column["name"] == "verified_id_hash" for column in columns):
        return "SELECT 1;"
    return f"""
        ALTER TABLE "account" RENAME COLUMN "id_number_hash" TO "verified_id_hash";
        {await _rename_constraint(db, "id_number_hash", "verified_id_hash")}
        ALTER TABLE "account" ADD "id_number_hash" VARCHAR(64);
        UPDATE "account" SET "id_number_hash" = "verified_id_hash";
        UPDATE "account" SET "verified_id_hash" = NULL WHERE "realname_verified_at" IS NULL;
        CREATE INDEX IF NOT EXISTS "idx_account_id_numb_b03fdf" ON "account" ("id_number_hash");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    # One account per number again: the holder, or else the first to claim it. The other claims
    # are lost (their accounts will have to be verified at an acceptance point).
    return f"""
        DROP INDEX IF EXISTS "idx_account_id_numb_b03fdf";
        UPDATE "account" SET "verified_id_hash" = "id_number_hash"
            WHERE "verified_id_hash" IS NULL AND "id_number_hash" IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM "account" AS "holder" WHERE "holder"."verified_id_hash" = "account"."id_number_hash")
            AND "id" = (SELECT MIN("first"."id") FROM "account" AS "first"
                        WHERE "first"."id_number_hash" = "account"."id_number_hash" AND "first"."verified_id_hash" IS NULL);
        ALTER TABLE "account" DROP COLUMN "id_number_hash";
        ALTER TABLE "account" RENAME COLUMN "verified_id_hash" TO "id_number_hash";
        {await _rename_constraint(db, "verified_id_hash", "id_number_hash")}"""


async def _rename_constraint(db: BaseDBAsyncClient, old: str, new: str) -> str:
    """The statement renaming a unique column's constraint to PostgreSQL's own name for the column
    (account_<column>_key), when it has that name; otherwise none."""
    found = await db.execute_query_dict(
        "SELECT 1 FROM pg_constraint WHERE conrelid = 'account'::regclass AND conname = $1", [f"account_{old}_key"]
    )
    return f'ALTER TABLE "account" RENAME CONSTRAINT "account_{old}_key" TO "account_{new}_key";' if found else ""


MODELS_STATE = (
    "eJztXVtT47gS/iuqvByoYqaYEC7LW8JkZrMLhIJwdmuXLZdiK4kKR/JKNpnsHv77kXyJ74"
    "4dHOIYv8wQuVuWP8nSp+5W+9/WnGpI55+7qooMExIV3VFMzNYl+LdF4ByJP9JEjkALGoYv"
    "IAtMONZtHbgSVoyV9JibDKqy8gnUORJFGuIqw4aJKZFaXfBknZ5o50/Weef4TPx7PP7pEi"
    "xmiCHAEMcaIiYH4q76EmACDMQ4JZ/BFaVMwwSaSFwUot+vfvl03D4CkIPf0NUMmoAjonFg"
    "ztD8s2yJRlXRFEym73lTi+C/LaSYdIpEGRO3/vMvUYyJhn4g7v00npUJRroW6gGsyQrscs"
    "VcGnbZgJjfbEH5PGNFpbo1J76wsTRnlKyk3S6YIoKYaLKs3mSW7AJi6brba16vOC31RZwm"
    "BnQ0NIGWLjtSajsN8MtainI7HCkP/ZGitGKd7GkEusAtUimRA0Q0ldtPP5VN+NT+0jnvXJ"
    "ycdS6EiN3MVcn5q3NrHxhH0YbndtR6ta9DEzoSNsY+qPb/MVhFz7FkXD35CLKiyVFkPRyr"
    "C+0c/lB0RKbmTPz8cnycAeR/u/dXP3fvD4TUobwlFa+w847fupfazjWJto+uhmUbVLMIwk"
    "GdclD2CqoAczsPyu10kNsxjKGmiQmKF4E4oLIthP25fQcQ58M4C+QYyjpMGMTfdApT5l9X"
    "PgLvRCrsIcAZeH4dPvau++Duvn81eBgMb+Vd5kv+t+5flEWiAJs2Bvf97nUUXHHrQuA68g"
    "24ecCdUYsVmh1WCjWcG7ayyhkCpUIkYqVQQ4Q7eQDupOPbseGVJHjyHGBssmAM1ecFZJoS"
    "u0LbNE02fmnenkdLIIFTGzj5hLL9/m6HWqkbIfvS0ZoN0Epo3b4nHe9mz1CtPcOzeKzk17"
    "1PrLmN7UA0SO57Yxh7ulV+81t3/fuH4W33+tLd50L9iTzeDkaXQNzZjO6d8827uabdjFk3"
    "OulaHLGim7egTu02cOXvLAzI+YKKOXQG+azQ+hZVrPJor9IuY25xU1FnkEyR4oEYB75HqY"
    "4gScY+rYpIF4xFHdvqg1XJ+5Ll3nB4bRNk7hLk3mAUwf7xptcX88xhmDR7M37D6JLn7i95"
    "5u4v6XP3l+gw363RrVLgnuaZRU7TJ5HT2ByCNUWwkDFiCiJqHOUR+pFK/yKKG8HtLoBVQT"
    "sD3VH/91FovvBQPbjp/n4Y2mpfD2+/e+KBXri6HvZS0S+6aMY1t4T/7ijKWSfHYD/rpA52"
    "eSkM9wtiWFSmKbg4S0nSLQXyCpHC8hH3h+kc8meUshFaN8R93TpMMpH18iLPenmRvl5eRD"
    "GfWc/UUjYw9McU64f2Vnj4BGJdTAw6nWKSAHiqBSWmt96YUhZjOd4W2qUYUwK2fqqKN1+x"
    "iIn1OLJfBSomnqMUu39EN4Ku5ip/9v7Yv7GdRVcGN/2HUffmLsRZvnZHfXmlHXYNuKUHZ5"
    "FRv6oE/DYY/QzkT/DH8Nb2IhiUm1Nm39GXG/3Rkm2ClkkVQhdyLglg4hV7RaGeZgjq8m9l"
    "tdAm+dCyezytjqbn96Ln50h0UyGKkKBaxzWrbFPdCjZjRk26EeArzfrhfZKLI5xkcISTOE"
    "dQBXLmRpNaWLOEqaxyJg7xgNqQ6Et3YOzJ3OaO4cypTTpAlEJetYDGRmywam9WCXww5t0N"
    "4xsH9xtlCE/Jr2gZ865FMHW9s49uNfuF7as3drxSv4kMLlbu3eCQEo8uHhh50R8Po/vBlY"
    "A43V3uQy1q5mbSBr7nKn779R7p0H6IVKBHTiVOsOsjR/tokU2D/bVQaIEP7Fg8B04KafKA"
    "HRI0ouKf9fD2/KrqMZRfC0ZgeAAkRGAEsEmPwAj0xfrI89EMeWHb0lUMIAFuBAfAHIzFHx"
    "owKRBrwyWgBAEE1RlYwGU8nPxNNTXxHtWK96AGIknAppNqX6N2YQblW5Ttt2EDGh3Ua0j0"
    "PpFodyosxqPDSuUYVvd+2npTnGSsQ+K94TGVnLQ7EBS5V12Rl3iHx2CIe191H666X/sR6v"
    "2m6NM7xOY4MfjUvZLJfAxfJt+RO7Vz+mR1Jp3Jk3UxVr+knJFLkmoIS7UIi9P1YvotwllC"
    "SrWjLSftPBbAdroBsB2LjrRDYwsizBM3ezU411Y+LWyCxLYZJMa5hcTylDB+JelOmX6DSl"
    "mMew8BzzqEJRhz7DQgNxVENMp4YRSTdN8IZjVtPzmx5NRiasqbvv48ha/9fu99C88NysxW"
    "MfhaveHoEoyp+UQGN3fDe/EjUM9OzlNU5JTVvZNfQUX3aCoPf0MXsRjtTRbMZMHMU1FYVK"
    "cwKz4/Ox9L1js+FiqMzsGcvqBPmAA7IAVA5ze1bBufhlQdMqStp9GbV5vAu/8MsAxP1p1k"
    "vDCwvxpuvsuEE3YAZCFis9JoWHnDyhtWXl9WXtV0KQkUqCD5qUygVJMt5T3ip2fU4khAqB"
    "WaK8JatRvM5WRGiMIs7u9gVBDooF7toC7/uLnk4AomBff6Ya0PbTKJbEbyIhhR+9AQ2qNJ"
    "7AM3GYS+2ke2NS0oezZ0mGZuSsYvpFTDqXILGZEYggV3Yb5Gg3AehNEcMYGJulQK5ypIUK"
    "0f5qXnLNhDM/WY1sBG3Ry5yAd9vaLFKuKZeKAqhrp4qy0mX+sbSuyRHXNMJModZfkluK0h"
    "9gauijJf6az1SwwJAra4zES9mGF1BpzqwKo6sIAcGBBrUsScIfCPjDI+gGQJ6MQumOAX5M"
    "vzw7ifYnu3WeO3cKB4k5uih6cfxVPxU7t9cnLePj45uzjtnJ+fXhyvXBbxS1m+i97gu3Rf"
    "hF7zXLFGlTO479CcVr7FfTUx5HTEreTfL/dA5d1xQd5s6HRZzAEX1KkfUy5rd1KVJdu05L"
    "ca7pEqE98lrdUhgexF2hFVmC+7dnH+JprzSZJIwIUW0SATayEDMzwVKx04eKGqHYEA9UOA"
    "NMv5EV49GbVMBK4SVuSS616zDHN15iYJRIRRXXeMcE30wI4jeyu32jbu7VoymfLd2/6Ekh"
    "deX6OGAG/HLhiYqmNAp/sIImof2s2CfhhIlcaiKYOaZS+iRdFMreHDAVsVVmiN55jzlLjS"
    "wNVsPhiWyxFAOqFsDmw1U3QqoERFlwCbHEiTCQcTLDpNfmXM4Wjeh8bkJT6jC6/0BaPFEY"
    "DyzPgMxVjhVu7yRAyG55JgPqMlmMNn+YEzl3aCJ+v84gzJmFXYAQcCJvyCmLiFucCqgAFO"
    "THnkHagM8tmRaI6olEqGCQxGVcT5oWiSd5sJZtyUZ+D/w2XLxPCU5iITQU2akNyHEk8K4F"
    "QMu20cN8vKV1ne0lPDqMt0mjrR6aII0J58DVf58qN+dp+OoN57AIYMfRmH95eH4W2a79pV"
    "iK7uWDXB/4CO+f7mIkpCVSIR8h3FEmdHc2QfhZ1CsoJo4myGJmINIcVCM0JK9ctbt5XYzM"
    "aJmo5+40TdAvceQT3TIBu6nsm/TVuykDn2CjHTThwLLDGm2MoUKtimU9sn0fmMapZqG0uZ"
    "pQui65pJewkm2BLqW2N2VcX7MqVs2VhaG0trjVlWY2ndoqV1NYcUADio04CcB2RvKShoHY"
    "zqNTbBHfGSWOrSJHKSlN80g6E44soCqUJesTyFHKbCYLpIU/4lzXjSYvaCbFOZl0BSMA07"
    "bhcssDmTiSUfbh6APDQlHpDafwCCfpjAHkMJxsKt3SeR1wQyi7lWiIbWfOxclpVaFbb4Ra"
    "ri++vyv3FROfDrtcGuZE7LXXfxdvPDp2aqLJwi/g25KqvBsMrPVvlu1MtOz5/Atry0/ekE"
    "y/s+QM7sPSenTpodDRx4UZwyYs6JKzm8BHJxsz2m+hIIKuSk6UaGPXSAQQW2Kfl7Sqq4yZ"
    "xZLXrUWCW2G55kcTXhm7RZX2xXN/8UbcWG7pY/Etn4dT4K7SxgP4kRp4TMN0U+95KfNFXM"
    "sZrGmYp946Ugzck2LeW1KW1gS5pQXacLSUmcU3h0MsH2yT13FByBZyIDv8ZLMBREZfA1ie"
    "VsVknDaKrFaHZv8KnQqlu+uYdbY9muMUo6hCq2AgiSlND2kGIE6bEb9b6NddZD/31N/73h"
    "8Dq0pPYGkaOmt483vb7gPDb4Qgg7O9X4ET4fuQ24Tky5+ZJslb8ka5E39XaCetPfVe7vZh"
    "OTvpJ92E3MNil6FzGsJub0cK9kUnPoy6xj5en93DDmajHmF8S8Iz55KXNApYaWwPbpaZ4w"
    "5NPT9DBkeS2SiFe8VAUQdsVriO5W7KzijiZKcpOln2IIqLzpHEPV0H6Pgww7Xcxe/w/6vT"
    "H4"
)
