from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "acceptance_point" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL UNIQUE,
    "district" VARCHAR(20) NOT NULL,
    "address" VARCHAR(200) NOT NULL,
    "lat" DOUBLE PRECISION NOT NULL,
    "lng" DOUBLE PRECISION NOT NULL,
    "hours" VARCHAR(100) NOT NULL,
    "phone" VARCHAR(40) NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_acceptance__distric_a6c8f0" ON "acceptance_point" ("district");
COMMENT ON TABLE "acceptance_point" IS 'A 受理点: where residents apply in person. Coordinates are GCJ-02, as WeChat sends them.';
CREATE TABLE IF NOT EXISTS "wechat_user" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "openid" VARCHAR(64) NOT NULL UNIQUE,
    "subscribed" BOOL NOT NULL,
    "subscribed_at" TIMESTAMPTZ,
    "unsubscribed_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE "wechat_user" IS 'A follower of the official account, known by OpenID.';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        """


MODELS_STATE = (
    "eJztmW1vmzoUgP+KxadW6qqMkXS330ia3WVqQ9XSbdqLkAEnsWpshs3Not3+92sbCIFAlu"
    "yuWxb1SxLOi314DtjnON+MiIWI8FM7CFAsIA3QNcNUGOfgm0FhhOSPNpMTYMA4Lg2UQECf"
    "aB+4NPbipbXPRQIDNfgEEo6kKEQ8SHAsMKPKywaf0u6L8OxTemZ1evKz4/91DuYzlCCQII"
    "5DRAUHclayAJiCGCWc0VMwYCwJMYUCSaU0/Xvw5lnHPAGQg3doMIMCcERDDsQMRacqkpAF"
    "MhRMp79y0pTiLynyBJsiKUvk1B8/SzGmIfqKeHEZ33sTjEhYyQAO1QBa7olFrGUjKl5pQ3"
    "U/vhcwkka0NI4XYsbo0jpPwRRRlMiQ1fAiSVUKaEpInrUiK1mkpUkW4opPiCYwJSqRyjsL"
    "oJQZnjd2XO926HqesZbkwmMlBbkoYFQ9IDJUru9+qkJ4Zj63zqyXL3rWS2miw1xKzh6yqU"
    "swmaPGM3aNB62HAmYWmnEJVX+vYZWZS5q5FvY1sjLkOtmC4/6ijeBXjyA6FTN5+bzT2QDy"
    "rX0zeG3fHEmrYzUlk69w9o6Pc5WZ6RTtkm6IVQyB2IXwqs/PoVwI9gGzuQ1lsx2yucYYhq"
    "FcoPguiFdcHotwubb/BsTbMd4EeY0ygQ0P8SvCYMv6m9vX8E6Uwx8IeAPPC+eufzkE1zfD"
    "weh25IzVLNGCfyGlUomkAAvN4GZoX9bhyql3gpvZP8HdBu6MpclOq8PS4QDXhkfZ5WJJaa"
    "ciYulwgIStbQBb7XwtjVcVwZP7lYpNCXwY3M9hEnprGmayNtt1VWRGdQmkcKrBqTtU8efd"
    "TlbD33FdqK/1Qivak01t0BwF0s5LC8MtOqAJI4TNUQLYRPUO8muCAwwJkC0VS6k4AfeUzS"
    "nwF8CJER1dNHU0PzbIU4eyXx0Kk6lpAtu+vJQeB9el9KwtVpee1bq6KFV18eapr+LyUQPi"
    "PmMEQdpMuepYI+1Lz8daygv6v7YU6TvOpS4/eF5+9EdujfLdVX8oN8/jaklSPOFNyL2mqv"
    "pC8hI4Qt/D7jWW2GHufVr82CINOdF92VA3ZMEdXQ1vXfvqupKKC9sdKo1ZrQ9z6VGv9jos"
    "BwHvRu5roC7BB2esS8mYcTFN9IylnfvBUDHBVDBP7hie7B9XmBTiQlTJdUr/V7Yb3J/yvc"
    "/5DhKkuP9AqquePyHLe1cnyxsMHUoW+RP4h6Q9f1nWsr4nJbqNEhzMjKa/KjLNxtIcljbf"
    "q8rb8/xUMe9XxfwPSrgKaYeSecXlAHtys9vd5kS0220/EVW62rmzfKl2IJybHyDdRzlTkj"
    "MKRBs20Te3zrhlAy1d6rsnDgT4FxDMD+x8VMGobJEF06Mr+30d9+DS6df3PjVA/3efNz38"
    "B+2ZCsw="
)
