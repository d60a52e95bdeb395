from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "permit_application" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" VARCHAR(24) UNIQUE,
    "kind" VARCHAR(10) NOT NULL,
    "person" VARCHAR(64) NOT NULL,
    "open_for" VARCHAR(64) UNIQUE,
    "name" VARCHAR(50) NOT NULL,
    "id_number_masked" VARCHAR(18) NOT NULL,
    "photo_number" VARCHAR(30) NOT NULL,
    "phone" VARCHAR(11) NOT NULL,
    "registration_number" VARCHAR(32) NOT NULL,
    "point_name" VARCHAR(100) NOT NULL,
    "point_address" VARCHAR(200) NOT NULL,
    "point_hours" VARCHAR(100) NOT NULL,
    "point_phone" VARCHAR(40) NOT NULL,
    "status" VARCHAR(12) NOT NULL,
    "status_note" VARCHAR(200) NOT NULL,
    "status_changed_at" TIMESTAMPTZ NOT NULL,
    "accepted_on" DATE NOT NULL,
    "due_on" DATE NOT NULL,
    "submission_id" VARCHAR(32) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE RESTRICT,
    "unit_id" INT REFERENCES "unit" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_permit_appl_person_79a172" ON "permit_application" ("person");
CREATE INDEX IF NOT EXISTS "idx_permit_appl_submiss_839e06" ON "permit_application" ("submission_id");
COMMENT ON COLUMN "permit_application"."kind" IS 'PERSONAL: personal\nUNIT: unit';
COMMENT ON COLUMN "permit_application"."status" IS 'SUBMITTED: submitted\nVERIFYING: verifying\nREVIEW: review\nAPPROVED: approved\nREJECTED: rejected\nPRODUCING: producing\nREADY: ready\nCOLLECTED: collected';
        CREATE TABLE IF NOT EXISTS "application_status_change" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "status" VARCHAR(12) NOT NULL,
    "note" VARCHAR(200) NOT NULL,
    "changed_at" TIMESTAMPTZ NOT NULL,
    "application_id" INT NOT NULL REFERENCES "permit_application" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_application_applica_b443dd" UNIQUE ("application_id", "status")
);
COMMENT ON COLUMN "application_status_change"."status" IS 'SUBMITTED: submitted\nVERIFYING: verifying\nREVIEW: review\nAPPROVED: approved\nREJECTED: rejected\nPRODUCING: producing\nREADY: ready\nCOLLECTED: collected';
COMMENT ON TABLE "application_status_change" IS 'Every status an application went through, with who moved it and why.';
        CREATE TABLE IF NOT EXISTS "push" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "key" VARCHAR(120) NOT NULL UNIQUE,
    "kind" VARCHAR(30) NOT NULL,
    "template" VARCHAR(40) NOT NULL,
    "data" JSONB NOT NULL,
    "url" VARCHAR(500) NOT NULL,
    "state" VARCHAR(10) NOT NULL,
    "due_at" TIMESTAMPTZ NOT NULL,
    "claimed_until" TIMESTAMPTZ,
    "attempts" INT NOT NULL,
    "openid" VARCHAR(64) NOT NULL,
    "msgid" BIGINT,
    "last_error" VARCHAR(200) NOT NULL,
    "sent_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_push_due_at_65a456" ON "push" ("due_at");
COMMENT ON COLUMN "push"."state" IS 'PENDING: pending\nSENT: sent\nFAILED: failed\nSKIPPED: skipped';
        CREATE TABLE IF NOT EXISTS "receipt" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" VARCHAR(24) NOT NULL,
    "business" VARCHAR(40) NOT NULL,
    "facts" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "account_id" INT NOT NULL REFERENCES "account" ("id") ON DELETE RESTRICT,
    "application_id" INT REFERENCES "permit_application" ("id") ON DELETE RESTRICT
);
CREATE INDEX IF NOT EXISTS "idx_receipt_number_f1f4b5" ON "receipt" ("number");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "application_status_change";
        DROP TABLE IF EXISTS "push";
        DROP TABLE IF EXISTS "receipt";
        DROP TABLE IF EXISTS "permit_application";"""


MODELS_STATE = (
    "eJztXVtzozgW/isqv2x3Vborca6TN9txz3omiVOJ0z2XTFEyyDYbLHkExO2d7f++kgBzJ8"
    "iGGBNeZjpwjsCfhPTp3PRPa040ZJifO6qKFhbEKrojOrZal+CfFoZzxP6RJnIAWnCx8AX4"
    "BQuODaED18LKYi09Ni0KVd74BBomYpc0ZKpUX1g6wVyrA57s02Pt/Mk+Pzk8Y/89HP90CZ"
    "YzRBGgyNQ1hC0TsKcaK6BjsEDUJPgz6BFCNR1DC7GbTPTn3i+fDtsHAJrgG+rNoAVMhDUT"
    "WDM0/8zfRCMqexUdT9/yoTbW/7aRYpEpYtcoe/Sff7HLOtbQd2R6fy6elYmODC3UA7rGGx"
    "DXFWu1ENcG2PoiBPnvGSsqMew59oUXK2tG8Fra7YIpwoiyV+bNW9TmXYBtw3B7zesV5019"
    "EecVAzoamkDb4B3JtZ0X8K+1FOV2OFIe+iNFacU62dMIdIF7SSWYDxD2qqb49VP+Cp/aRy"
    "fnJxfHZycXTES85vrK+Q/n0T4wjqKA53bU+iHuQws6EgJjH1Tx/xisrOdoMq6efARZ9spR"
    "ZD0cqwvtHH5XDISn1oz9eXR4mAHk185979+d+w9M6iN/JGGfsPON37q32s49jraPrqbzd1"
    "AtGYSDOsWg7F2oAsztPCi300FuxzCGmsYmKFMG4oBKWQj7c/sOIM6HcRbIMZQNmDCIvxgE"
    "psy/rnwE3glX2EOAM/C8Gj52r/vg7r7fGzwMhrf8KfOV+bfh3+SX2AXdEhjc9zvXUXDZo6"
    "XAdeQbcPOAOyM2lZod1go1nBtKWeUWDCUpErFWqCHCJ3kAPknH90TAy0nw5DnA2PiFMVSf"
    "l5BqSuwOaZM02fiteXsevQIxnArg+C/k7+/vdoiduhEStw5e2QCthV7b96Tj3ewZqrVneG"
    "Y/K/lz72N7LrAdsBfi+94Yxp5ulb/81l3//mF427m+dPe50HjCj7eD0SVgT7aie+d8826u"
    "aTdj1o1OuraJqOzmLahTuw1c8TuLBTTNJWFz6AyaM6n1LapY5dFepV3G3DYtRZ1BPEWKB2"
    "Ic+C4hBoI4Gfu0JiJdMGZtlNUH6ytvS5a7w+G1IMimS5C7g1EE+8ebbp/NMx/DpNmb8RtG"
    "lzx3H+WZu4/S5+6j6DDfrdGtUuCe5plFTtMnkdPYHKJrCmMhY0QVhNU4yiP0PZX+RRQ3gt"
    "tdAKuCdga6o/5vo9B84aH64abz28fQVvt6ePuzJx7ohd71sJuKvuyiGdcsCf/dUZSzkxyD"
    "/ewkdbDzW2G4XxDVWWOaosuzlCTdQiCvECksHnF/mM6h+YxSNkKvDXFftw6TTGS9vMizXl"
    "6kr5cXUcxn9jOxlQ0M/THF+qFdCg+fQN1gE4NBpjpOADzVghLTe92YUhRjOSwL7UKMKQFb"
    "P1HZl6/Y2NKNOLJXDBVLn6MUu39EN4Ku5ip/9v6xf2M7i64MbvoPo87NXYizXHVGfX6nHX"
    "YNuFc/nEVG/boR8G0w+jfgf4I/hrfCi7AgpjWl4om+3OiPFn8naFtEwWTJ55IAJt5l71Ko"
    "pymCBv+3sl5ok3xo2T2e1kbT83vR83PEukmKIiSo1nHNKtpUt4ZtMSMW2QjwtWb98D7OxR"
    "GOMzjCcZwjqAw5a6NJLaxZwFRWORMH+4HaEBsrd2DsydzmjuHMqY07QBQpr1pAYyM2WLUv"
    "qwA+GPPuhvGNg/uFUKRP8a9oFfOuRTB1vbOPbjP7he0Pb+x4V/1XpHC5du8GhxT76ewHIy"
    "/642F0P+gxiNPd5YHAscXC0FXIXzJhj9N1tb/8eo8MIZSO9h2ic93q+O3t4ZyVhn3YL2Cb"
    "M7QtWLZjaqojPhSpiDW9JUL3Tit1BYldMK0kw5kMRiOnESfI/NFE++gJSUVLKqTHB3bMfo"
    "eeFEroATvEaETYf16Ht+s3VY8l5Ids5JM/mT9Y0LLNnnApt5IioVJEDzIjo3wlxRRartNa"
    "qL2aI9J/QXQFHEUAMQg0B5YIW8CaUWJPZwdgqVszsJwRMCcvSAO6xcQ1dmEVzwEpqtGEeK"
    "0/gz9YeJ/FU1p/NYFcOwzkcjshBmy+UC5fu8p+6dbDY/dmMBr1ry6BaY8ZT2Nv9IS/9u8H"
    "X34f3P58CYRpbcX64Qnf978O+t8uAUUvOlo+4c7d3f3wK1dlw5fysc5lfun3RHMU/Qepoj"
    "UmdfXYE60xMc1W3dY6V79zMaitnnBveH3tKjIMDaEZ/QRzuVfaedwr7XT3SjsWjkAsuXAE"
    "V/7tur3VKusLK9+X4kzrG9lJQpo1tJPsiV0kl803uKBLLVZxxbdzmlV87cqwk0ToxJbmkj"
    "pv4A8ixpP4eAvZUHqdh17nqp9lQikz48DbeCTw7MCeJJ1XB/ZAr7Po0Qx5aco8NFpwXidj"
    "AegmGLN/aMAigH3yl4BgBBBUGe2FCdR5q5aa/IZq0WKyQDgJ2HRG5GvULqy++Agq8TVsQI"
    "eCejUkQzV2GrlToSQvCikVw4n2ftraKi8w1iHx3vAshDl5UyAJcK+6IjdXCo3BHDxpK+7j"
    "sNAk6uPeyWQ+C18mX4kZ9eT0yT6ZnEye7IuxepRSEyZJqiEs1SIsTtez6VeGs4SUakdbjv"
    "NYyY7TrWTHMSuZkwoqibCZ6GSpQR2X4mlhkxRVZlKUadqILU8J45eT7pTpN6iUxbj3EPCs"
    "oiOMMceq35iWgrBGqCmNYpLulmBW0+eaE0uT2FRN+dJzOJ3W2m/ofdDnC0ItSR9EqzscXY"
    "IxsZ7w4OZueM/+CLSzk/oBFakqEre2plLeiEn2NfarRMzCTdGR2nBcJ3FOiiCsNeqW1djO"
    "Q77a6eSrHSNfTUmXCpR0aXYY5e4wuJVemRCpSSSoU7dppNnD7dcergqZ59UGvfjUc5EVps"
    "iTj6he7WKljvOllGVklO1jGck3Arf4kkMUTXldaSfsQ344p6jXDvgSzMa88L8iuzCGteo4"
    "U5dSiFagtkGdkJhiDREvJbjVAU66xHJErYZolzi+5dfJsFrtJu1iSi6HbNR7lxjRWuc2yJ"
    "qpm/yIyHcXW8Ld/CzZNImIWu0+u1IWlFAu3CZRgokN1DBccE/CA/PlTohzsqQ9qxG1d+2h"
    "1mwkiZ6v8a6BE2ueaaal7WRM71HF+pngi98NN0WD0qFv4r9Lj//edRcXXEuyKcZUcpJhWp"
    "i8dILhFoHy1VhNtwmV98syRQdvAcg2la5er3TlbIa2rEqUUeakJkN6p6Wc9mSAytUmkg0M"
    "5KXBkmIB3ZJhGeF/nkRlAv66+vS9xPz91G4fH5+3D4/PLk5Pzs9PLw7X63D8VtaC3B38zN"
    "fkEE3NcRwZWsns21zx2mW8HOWqqnuUUVb3KF5XNz0uMAXcPYgFrEzAg4XmCwPKGZWDOjUE"
    "uXhXDp824gD/8jC8TTGLufJRC4OuWuB/wNDNPSbxSaByJEJmhNgpQNEDfw7C9gHeQPQUIJ"
    "smnG2QcS4hTTrOYP89JKe5PCSnGR6S02QPyebpM9abzx2tBVqXZJGL2L69cjyGjv4Tfujf"
    "ji6BibD1hL90BtfcVeicOMLu/Tq4uxM+zGd9sdjQc1h4RDe3scubOn2ttzFz7iDzvupWzV"
    "xuK9WArA82PMslptwc6VHlvoYWZ15J5oB0A3ZApTkHKWq73n2RpQoRheIzMebmVNYqsVap"
    "kWfgTUwT0TxxSuVyjMJatRvc5cQJIR6wKx8d5Ks1622V19smUCD962oCBZpAgcavvXu/9o"
    "5L5Xq+xQSHWcDtmO4zowGhyrjN3ovPrD51MipmYCq7UsbYNnUsmV4W1GmcNjmcNhM2FyUg"
    "nO61WSs0bpst3DYN6U4f8Q3pbki3nIVz1yeCVMw60exp9mFPkxyru/vTVio2mHMjnX3YSp"
    "4w3nK3kKauIdZZ94H6Hq3EDWWS4EH29tJVUWhUR7o++fnZ+ZjXHx8fMhVK5uLcwU86BsJ7"
    "CqDzN7HFaSsaUg1IkfZ6QfPNm0084tCvxubJugl2XmGJ5rTD970zrlC0aFMffd88uk1tvR"
    "Jr62l8gdLVBPqYDnBQp4ZO21w+2wyXbRTiDcoyNQWZpP3iM2KbiEGoSc0VYa3aDebiDZQc"
    "MPZ8ByNJoIN6tYO6+BhazsEVHUtWtwhrvesKF5HNSF4EI2rvGkIxmtg+cJNB6Ku951M/lo"
    "Q+LwyYdvBHMn4hpRpOlSWUCKQISu7CfI0G4TwIozmiDBN1JV+IMUG1fpgXXrp4Dw8MGpMa"
    "nBbUeIbzQV8vz3DMxbYbz8QDUXVosK/apvyzviHYSiwNkSh3kOWXMIUG2xu4Ksp8rfOqX2"
    "KIERDiQMdgOdPVGXCaA+vmwBKaYAF1jYtYMwT+y897/wDxCpCJuDDRX5Avb36M+ynKe8wr"
    "fgsHiq3cFE3dC37vLepeVNHgvkNzWgk5VN7EkNMRt5ZvwmESwmF44QqyknPABXXqx5SL2p"
    "1UZcm2bA1h6x6phIbXiUSB7EXaEVWoL/vq4vyFvc4nTiKBybSwBilbCymY6VO20oEPL8SJ"
    "w4DGR4A02/kjvHpSYlsI9BJW5ILbfmUZNtUZISIpHGHKa6ELI1wTPbDjM9Yrt9o27u1aMp"
    "ni3dv+hJIXXl+jhgCXYxcMTNUxoNN9BBG1d+1mQd8X4tgPZUqhZjtRk5Joprbw7oCtCitc"
    "l8lPpIT+3Ww+GJbLEUA6IXTuH2gDCFbRJdAtE3CTiQkmOus0sJwhh6O5waoi0NOckaV3lR"
    "9zcwAg1vjfMVZYylOe8ILqc04wn9EKzOEzMgF0aSd4ss8vzhCPWYUn4AODSX9BlD3CWuoq"
    "gwFOLEZHIVApNGcH7HVYo4QzTH7sjopM8yN7Je8xE52aFpNB/zL5m7Hhyc1FFoIaNyG5P4"
    "r9UgCnbNil8dZtSGnWeaXFLT01jLpMp6kTgyxlgPbka7jKFx/1U8WaRXXaA1C0MBJq+aan"
    "fa4Vtkr73J/AilKyPimasDUEy4VmhJQKORi9UnNHKbGZjRM1Hf3GiVoC9x5BI9MgG7qfyb"
    "8tISllju0haunsRTVgszFF16ZQxjad1j6xzheHQQpjKbUNRnRdM2k3wQRbQHuvmF1V9r1M"
    "CV01ltbG0lpjltVYWku0tK7nEAmAgzoNyHlA9pYCSetgVK+xCe6Il1DbZKh+Q+ybsB5NsR"
    "LHyUlMKJuhOOLKEqlMXrE9hRymQucRgKswVgEtYcYDznnWgma49RIY0xBxu2CpWzMAMXi4"
    "eQA8aYr9QCL+ATD6bgExhhKMhaU9J5HXBApiuFaIhtbsktZU0XhUq3AtcU69vtH+OqLabL"
    "CrvsFu6leVM4HFCEJTYGmjsj+VLRorjktNYFveMarpBMs7rzVn9Z7jU6fMjgY+eFGcPGLO"
    "iSv5eAn44iY8psYKMCrEWA4DDS3E0AELwrBNqd9TUMNN3dpq0aPGKlFueJJtqqoMvp587X"
    "zwRxd5wL1Ix/ai8eu8V9opYT+JEadtj9/OTZoq5lhN40w/UgpMbolTjYtLlnr2drYxLq8V"
    "bgPr24QYBllyEufkLZLJRBe5ju53cwCeMQ+VG6/AkFG7wVUSL9yskYYDVosD7t5EViGeUr"
    "yBzLTH/L3GKCltl22eEMQpyQAhxQjSYzdPoAxm4qH/ts6S7nB4HSIh3UEkOff28abbZyxR"
    "gM+EdGdvH0969JHb5LCyqHJzZFmVjyyz8Va9naDe9HeV+7vZ9qWvZO9221cmRe8gqquJVV"
    "DcO5nUHPoyzWlfdWHML4h6SVF5KXNApYa20/bpaZ7A7dPT9MBtfi92kosMwq54DdEtxTLN"
    "nmihJMdiet5HQKU58Esy9WOni9mP/wN8SZO3"
)
