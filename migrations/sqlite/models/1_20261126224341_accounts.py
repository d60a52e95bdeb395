from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "unit" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "uscc" VARCHAR(18) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL
) /* A 单位 (employer or school): opened only at an acceptance point. */;
        CREATE TABLE IF NOT EXISTS "account" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(10) NOT NULL /* PERSONAL: personal\nUNIT: unit */,
    "username" VARCHAR(20) NOT NULL UNIQUE,
    "password_hash" VARCHAR(200) NOT NULL,
    "must_change_password" INT NOT NULL,
    "phone" VARCHAR(11) NOT NULL,
    "name" VARCHAR(50) NOT NULL,
    "id_number_enc" TEXT,
    "id_number_hash" VARCHAR(64) UNIQUE,
    "id_number_masked" VARCHAR(18),
    "hukou_address" VARCHAR(200),
    "failed_logins" INT NOT NULL,
    "locked_until" TIMESTAMP,
    "realname_verified_at" TIMESTAMP,
    "realname_method" VARCHAR(20),
    "realname_photo" VARCHAR(300),
    "created_at" TIMESTAMP NOT NULL,
    "unit_id" INT REFERENCES "unit" ("id") ON DELETE RESTRICT
);
        CREATE TABLE IF NOT EXISTS "binding" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "openid" VARCHAR(64) NOT NULL UNIQUE,
    "bound_at" TIMESTAMP NOT NULL,
    "account_id" INT NOT NULL UNIQUE REFERENCES "account" ("id") ON DELETE CASCADE
) /* The WeChat user an account is bound to now: one each way. */;
        CREATE TABLE IF NOT EXISTS "trusted_wechat_user" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "openid" VARCHAR(64) NOT NULL,
    "verified_at" TIMESTAMP NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_trusted_wec_account_223e94" UNIQUE ("account_id", "openid")
) /* A WeChat user that once proved the account's phone with an SMS code: no code next time. */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "trusted_wechat_user";
        DROP TABLE IF EXISTS "unit";
        DROP TABLE IF EXISTS "binding";
        DROP TABLE IF EXISTS "account";"""


MODELS_STATE = (
    "eJztXFFT4joU/isZXq7OeB1FUK9vgLjLroIj9e7Orjud0AbasSTdJl1k9vrfb1JaWtoGWw"
    "QtbF+0JDlp+p305DsnJ/1dGRMdWfSwoWnIZhBr6JaYmFUuwO8KhmPEL2RNDkAF2nbYQBQw"
    "OLA8GThvrNrz1gPKHKiJzofQoogX6Yhqjmkzk2Ah1QAPbv1EP3twz2pHp/zv0eCfCzAxkI"
    "OAg6ipI8wo4He1psDEwEYOJfgQtAhxdBNDhnglb/qh9envo+oBgBR8QS0DMkAR1ilgBhof"
    "ipHoRONDMfHoLW/qYvOni1RGRoiXOfzW33/wYhPr6AnR4Kf9qA5NZOkLGjB10YFXrrKp7Z"
    "V1MLvyGornGagasdwxDhvbU2YQPG/tq2CEMHL4kEX3zHGFCrBrWb7WAq3MRho2mQ0xIqOj"
    "IXQtoUghPRtAWFZR1W5PUfttRVUrCSUHEhEV+EUawWKC8KFS7+lHYgh/V49rZ7Xzk9PaOW"
    "/iDXNecvY8u3UIzEzQg6erVJ69esjgrIWHcQiq9z8BK9eck45r0D6GLB9yHNkAx+JCO4ZP"
    "qoXwiBn85/HR0RIg/23ctT427vZ4q31xS8Jf4dk73vWrqrM6gXaIrm6KMWgsD8JRmfWgHB"
    "QUAeZqFpSrcpCrCYyhrnMDRfNAHBHZFMKhbX8HiLNhvAzkBMoWTJnEVxaBEvvrt4/BOxQC"
    "WwjwEjwve/fN6za4vWu3Ov1OryvuMp7Sn1ZYKYp4gck8DO7ajes4uPzWucCdtS/BzQKuQV"
    "wnl3WYC+ygbdjIKmdzlHKRiLnADiJcywJwTY5vzYNXkODhY4SxiYIB1B4n0NHVRA2pElnb"
    "ZNW4Oo6XQAxHHnDiCcX4Q2+HuFJHyKs6eMEBmjd6ye+R4136DMXyGR75Y6W/7m3sjj1sO3"
    "xAwu9NYBzIFvnNr9y27/q9buP6wvdzofWA77sd5QLwO7O475zN7mYyu0usbtzouhQ5eZ23"
    "qMzOOXDr9yxsSOmEcBtqQGrkWt/igkWe7UXyMsYuZapmQDxCagBiEvgmIRaCOB17WRcxFQ"
    "x4H5vSwbzkbclys9e79ggy9Qlys6PEsL+/aba5ndlfJM2BxS8ZXbrtPs5iu4/ltvs4Ps3f"
    "N+hWKHDrWaxIXW5E6gkbYuoqZyED5KgIa0mUFfQkpX8xwZXg9hfAoqC9BF2l/VVZsBcBqn"
    "s3ja/7C672da/7IWge0ULruteUop930UxKrgX/AjGU01qGuX5ak851USVDewzpI5Kw8pfw"
    "DmV3YcbHjPd5FuN9Ljfe53HMDfeRuOoKUeeE4O6hvRFSOISmhXTVIiMTpwAudecTci979u"
    "taPo82hfZaPPtI4Jlo/M1XXcxMK4nsJUeFmWMkCULHZGPo6r7wYXCxfXN72drZuWn3lcbN"
    "7cICetlQ2qKmuhin9kv3TmOzft4J+NJRPgLxE3zrdb2Qtk0oGzneHcN2yreKGBN0GVExmQ"
    "hbEsEkKA6KFjTtIGiJa/UXckz+RLqatqGzXOOyPkrNb4Xmx4irKRdFSBHdxTVr3XGjOWzc"
    "K2ZkJcDnkruH90kmjnCyhCOcJDmCxpFjKxm1Rck1mLLC+dv8AfUetqb+xNgS2+bP4aWmTU"
    "Tj1VxbPBGJldhg0d6sNfDBxFbjIr5JcK+Ig8wR/oymia2eGKb+VuG93812YfsczJ2gNByi"
    "AyfzvcbolOKPzh8YBakIfeWu0+IQy/duQ6h5z5SlOfBNX/Dq8x2yoPcQUqCVWSezzMt7ir"
    "YxPCiD/TnXPncI7IA/h5mWXxMA28NIIfzPy/A2w652Yyo/50wHCABISQeIYCNPB4jo4uU0"
    "aMVAQQ6x2LcEEAM/nQCYFAz4hQ4YAXxtuAAEI4CgZoAJnCZzm1/VU5l8UKzkA2IjnAasnF"
    "SHEju3573+iLL3NqxAo6NyJYneJhLtm8J8PHpRaD2B1a03W69K2ksoJKmNgKlkpN2RDL2t"
    "UkVW4r04Bxe4d6vRbzUu2zHq/apUyCS3TmFBqQRczod80q9OkMbbq24gkOGIWJTPMHFF+F"
    "wAtkN+IV2ctgoYzl8UeLkZYGIyQzCf/k0faHwo/AGJdwEwemLAM9AJ5rTB+6Twqu/Rqe+v"
    "2j9KsvVHk633Xvc3TLdesRuz/k2YwoFfkq6Nk673VvFmA5hSKpU7hvkKMlXQ4M+r6dSbnU"
    "Lx4scpbCuIK8sJVhDAznrovl5/cGvDmg720Ni2yJSTHuIAqhmEWPsXQCxunPYQbpIAp0Kz"
    "OJJ/wh94J/xlB+vX03EZiyoWPSrzeDd7sNClWkoG77LzLdrqibsFm7obzmIsN8z/FNqZIy"
    "qVIE4p6ZZ59iOzk6Zt2jDbFM1ZHlrKGlNaIZY0JJZFJoKSDL2QDhkOTc2EVhDbOQCPfEJh"
    "MJiCHicqncs0lrNaJyWjKRajef+AT4FW3fWHe6g7EOMapCZ6LDvVuCj4hmcZA/S39ihjiN"
    "wKXCchXKY6FznV2cWv0naKeKnvIuu7dGLkK9kf68Rs9Hs4yDE1o5JCz/2apdQchm3Kj+Hs"
    "CmP+hRzqO8FZKXNEZAcjgdV6PcuBmnpdfqJG1MU+8shfqhwI+813EN2NxFn5HRlK2yb71O"
    "91JQtoKBJfPU2Ngf+AZdIt3i1LA1eAsbBEJr6XEP80QmztEx003/vjbs//A+BXJLo="
)
