from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "submission" (
    "id" VARCHAR(32) NOT NULL PRIMARY KEY,
    "flow" VARCHAR(40) NOT NULL,
    "openid" VARCHAR(64) NOT NULL,
    "reply" JSON,
    "reference" VARCHAR(200),
    "created_at" TIMESTAMP NOT NULL
) /* A form submitted once: its id is fixed when the resident is shown the review, and the */;
CREATE INDEX IF NOT EXISTS "idx_submission_openid_6b26d1" ON "submission" ("openid");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "submission";"""


MODELS_STATE = (
    "eJztXW1T47YW/iuafLkww+6wIQHKt4TNbtMCYSDcdlo6HsVWEg+O5Eoy2bSX/34lv8Tvjh"
    "0ccIy/7BL5HFl+JB89Ojo6/re1IBoy2OeeqiKTQ6yiW6Jj3roA/7YwXCDxR5rIEWhB0/QF"
    "ZAGHE8PWgWthxVxLTxinUJWVT6HBkCjSEFOpbnKdYKnVA49W90Q7e7TOOsen4t/jyU8XYD"
    "lHFAGKmK4hzBkQdzVWQMfARJQR/BlcEkI1HUOOxEUh+v3yl0/H7SMAGfgNXc4hBwxhjQE+"
    "R4vPsiUaUUVTdDx7y5taWP/bQgonMyTKqLj1n3+JYh1r6Adi3k/zSZnqyNBCPaBrsgK7XO"
    "Er0y4bYv7NFpTPM1FUYlgL7AubKz4neC3tdsEMYURFk2X1nFqyC7BlGG6veb3itNQXcZoY"
    "0NHQFFqG7Eip7TTAL2spys1orNwPxorSinWypxHoArdIJVgOENFUZj/9TDbhU/tL56xzfn"
    "LaORcidjPXJWcvzq19YBxFG56bcevFvg45dCRsjH1Q7f9jsIqeo8m4evIRZEWTo8h6OFYX"
    "2gX8oRgIz/hc/PxyfJwB5H97d5c/9+4OhNShvCURr7Dzjt+4l9rONYm2j66myzaovAjCQZ"
    "1yUPYKqgBzOw/K7XSQ2zGMoaYJA8WKQBxQ2RXCvm1/B4jzYZwFcgxlAyYM4m8GgSn215WP"
    "wDuVCnsIcAaeX0cP/asBuL0bXA7vh6MbeZfFiv1t+BdlkSjQuY3B3aB3FQVX3LoQuI58A2"
    "4ecOfEooWsw1qhhrZhJ7OcKVAqRCLWCjVEuJMH4E46vh0bXkmCp08BxiYLJlB9WkKqKbEr"
    "pE3SZOOXFu1FtARiOLOBk08o2++vdoiVuhCyLx1tWACthTate9LxbtYM1VozPInHSn7dB9"
    "ha2NgORYPkujeGsadb5Te/dTu4ux/d9K4u3HUuNB7xw81wfAHEnXl07ZzP7uYyuxlWN2p0"
    "LYZo0cVbUKd2C7jyVxYmZGxJhA2dQzYvNL9FFas82qu0ylhYjCvqHOIZUjwQ48D3CTEQxM"
    "nYp1UR6YKJqGNXfbAueVuy3B+NrmyCzFyC3B+OI9g/XPcHws4chkmzZ/EbRpdsu7/ksd1f"
    "0m33l+gwf1+nW6XA7eaxIt10I9KN2RBdUwQLmSCqIKzGUR6jH6n0L6K4FdzuBFgVtDPQHQ"
    "9+H4fshYfqwXXv98PQUvtqdPPdEw/0wuXVqJ+KftFJM65ZCv4VYiinnRxj/bSTOtblpTS0"
    "F5A9oRRWvglvX7cOIz5ivM/zGO/zdON9HsV8bj0RS9nC6xxTrB/aOyGFU6gbSFMMMtNxAu"
    "Cpy/mY3uaVfVnT5/Gu0C5lZR9wPBNVvPmKhbluxJH9KlDh+gKlOKEjuhF0NVf5s/fH/o3t"
    "rLlzeD24H/eub0MT6NfeeCCvtMN+arf04DQy6teVgN+G45+B/An+GN3YLm2TMD6j9h19uf"
    "EfLdkmaHGiYLKUtiSAiVfsFYV6miJoyL+VZ0R18USakrShk93jaXU0Pb8XPb9AopsKUYQE"
    "1TrOWWX7jdawiVUxJ1sBvtasH94nuTjCSQZHOIlzBFUgx7cyamHNEkxZ5dbb4gG1ETZW7s"
    "DYE9vmjuFM0ya98UqhLZ6AxlZssGpvVgl8MLbVGMY3Du43QpE+w7+iVWyrJ4Kpu1X44Faz"
    "X9i+eGPHK/WbSOFyvdcYHFLi0cUDIy8U4X58N7wUEKfv3fpQi5oZT1rA913Fb7/eIQPaD5"
    "EK9NipxIm8fGBoH92DabC/FNrn9oGdiOfQk+JrPGBHGI2J+GczvH2/qnoM5ZeC4QAeAAnh"
    "AAFs0sMBAn2xOQx6PEdeDLHctwQQAzecAOgMTMQfGuAEiLnhAhCMAILqHCzhKh7b/Kqamu"
    "CDagUfEBPhJGDTSbWvUbs97/I9yvbbsAWNDuo1JHqfSLRrCovx6LBSOY7VvTdbrwrai3VI"
    "vDc8ppKTdgci9PaqK/IS7/AYDHHvy979Ze/rIEK9XxUKeYvoQk+MhHSvZDIf05fJd/5L7X"
    "Qfrc60M320zifql5QDW0lSDWGpFmFxul6Y3yKcJaRUO9py0s7jAWynOwDbsVA9O06zIMIs"
    "cbFXg0NW5dPCJmJplxFLjFlITE8J41eS7hTzG1TKYtx7CHjWiSDBmGNH0xhXENYIZYVRTN"
    "J9JZjV9P3kxJIRi6opb/rm4H5f++3e+5a+MAnlrWLwtfqj8QWYEP6Ih9e3ozvxI1DPuwT3"
    "V+TIz51z2F9Fd2gmTyJDF7EY7U0WzGTB1FNRaFSnMCs+Oz2bSNY7ORYqlCzAgjyjTzoGdk"
    "AKgM5vYtk+Pg2pBqRI20yjt682gXf/GWAZnqxrZLwwsL8abv6e2Q/sAMhCxGat0bDyhpU3"
    "rLy+rLyquTsSKFBB8lOZQKkmdcdbxE/PicWQgFArZCvCWrUbzOUc04/CLO7vYFQQ6KBe7a"
    "Au/+yz5OCKjguu9cNaH9plElmM5EUwovahIbRHk1gHbjMIfbWP7GtaEvpkGjDN3ZSMX0ip"
    "hqZyB+l5KIIFV2G+RoNwHoTRAlGBibpSCh+cT1CtH+alH6DfQzf1hNTAR90cucgHfb2ixS"
    "qyM3FPVB0a4q22qHytrwm2R3ZsYyJR7ihrX4LZGmJt4Kooi7XOxn2JEUbAFpdpkZdzXZ0D"
    "pzqwrg4sIQMm1DUpwucI/COjjA8gXgEytQum+jPy5dlhfJ9id7fZsG/hQPGqbYq+PvsoOx"
    "U/tdsnJ2ft45PT827n7Kx7frzesohfytq76A+/y+2L0GueK9aocg73d3Snle9xXxuGnBtx"
    "a/m3yz1Q+e24IG82DbIqtgEX1KkfUy5rdVKVKZtb8sMBd0iVWdiS5uqQQPYk7Ygq1JfdOD"
    "l/E835JEkkYEILa5CKuZCCuT4TMx04eCaqHYEAjUOANMv5EZ49KbE4ApcJM3LJdW+Yhpk6"
    "dzPWIUyJYThOuCZ64J0jeys32zbb27VkMuVvb/sGJS+8vkYNAd6NXzBgqmNAp+8RRNQ+9D"
    "YL+mEiVTqLZhRqlj2JFkUztYYPB2xVWKE1WeiMpcSVBq5m88GwXI4A0imhC2CrcdGpgGAV"
    "XQCdMyBdJgxMddFp8pNXDkfzvnolL7E5WXqlzzpaHgEoz4zPUYwV7uQuj9ik+kISzCe0Ag"
    "v4JL+25dJO8GidnZ8iGbMKO+BAwKQ/IypuwZe6KmCAUy6PvAOVQjY/Es0RlRLJMIFJiYoY"
    "OxRN8m4z1Snj8gz8f5hsmRie0l3EEdSkC8l9KPGkAM7EsNvFcbOsfJXlTT01jLpMp6lTgy"
    "yLAO3J13CWLz/q5/3TEdR7DUCRaazi8P5yP7pJ27t2FaKzu65y8D9g6Gx/cxEloSqRCO0d"
    "xbI4RxM2H4U3hWQF0SzOFE3FHIKLhWaElOqXt24nsZnNJmo6+s0m6g649xgamQ7Z0PVM/s"
    "1tyULu2EtEuZ04FlhiTNG1K1SwTae2T6LzKdEs1XaWUssQRNd1k/YTXLAl1LfB7aqK92VG"
    "6KrxtDae1hqzrMbTukNP69qGFAA4qNOAnAdkbyoo6B2M6jU+wXfiJbHUpUnkJCm/aQZDcc"
    "SVJVKFvGJ5CjlchcF0kVz+Jd140mP2jGxXmZdAUjANO24XLHU+l4kl76/vgTw0JR6Q2H8A"
    "jH5wYI+hBGfhzu6TyGsCmcVcL0RDaz52LstKzQrl85pXfOyi/G9cVA78ei2wK5nT8r27eL"
    "f54VMzVRZOEf+KXJXVYFjlZ6t8M+plp+dPYFte2v50guV9HyBn9p6TrpNmRwMHXhSnjJhz"
    "4koOL4Cc3OwdU2MFBBVy0nQj0x46wCQC25T8PSVV3GTOrBY9arwSuw1Pspia8IHUrM+Hq9"
    "t/F7ViQ3fHH4ls9nU+Cu0s4D+JEaeEzDdFPveSnzRVbGM1jTMV+8ZLQZqT7VrK61Pawpc0"
    "JYZBlpKSOKfwyHSq2yf33FFwBJ6wDPyarMBIEJXh1ySWs10lDaOpFqN5f4dPhWbd8t09zJ"
    "rIdk1Q0iFUsRRAEKeEtocUI0hP3Kj3XcyzHvpv6/rvj0ZXoSm1P4x+2v3huj8QnMcGXwjp"
    "zko1foTPR24LrhNTbr4kW+UvyVr4Vb2doN70d5X7u1nEpM9kH3YRs0uK3kNUVxNzerhXMq"
    "k59GU2sfL0fm4Yc7UY8zOi3hGfvJQ5oFJDT2C7280Thtztpochy2uRRLzipSqAsCteQ3R3"
    "4mcVd+QoaZss/RRDQOVV5xiqhvZbHGR418ns5f90N7pt"
)
