from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "permit" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "permit_no" VARCHAR(32) NOT NULL UNIQUE,
    "person" VARCHAR(64) NOT NULL,
    "name" VARCHAR(50) NOT NULL,
    "issued_on" DATE NOT NULL,
    "last_endorsed_on" DATE,
    "source" VARCHAR(10) NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_permit_person_e84eb8" ON "permit" ("person");
COMMENT ON COLUMN "permit"."source" IS 'BOT: bot\nIMPORT: import';
COMMENT ON TABLE "permit" IS 'A 居住证.';
        CREATE TABLE IF NOT EXISTS "residence_registration" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "number" VARCHAR(32) NOT NULL UNIQUE,
    "person" VARCHAR(64) NOT NULL,
    "name" VARCHAR(50) NOT NULL,
    "district" VARCHAR(20) NOT NULL,
    "address" VARCHAR(200) NOT NULL,
    "house_code" VARCHAR(40) NOT NULL,
    "housing_type" VARCHAR(10) NOT NULL,
    "move_in_on" DATE NOT NULL,
    "declared_on" DATE NOT NULL,
    "move_out_on" DATE,
    "workplace" VARCHAR(100) NOT NULL,
    "reason" VARCHAR(100) NOT NULL,
    "emergency_phone" VARCHAR(11) NOT NULL,
    "source" VARCHAR(10) NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "uid_residence_r_person_8631a5" UNIQUE ("person", "declared_on", "address")
);
CREATE INDEX IF NOT EXISTS "idx_residence_r_person_a71d10" ON "residence_registration" ("person");
COMMENT ON COLUMN "residence_registration"."source" IS 'BOT: bot\nIMPORT: import';
COMMENT ON TABLE "residence_registration" IS 'A 居住登记: from move-in until a move-out is declared.';
        CREATE TABLE IF NOT EXISTS "social_insurance_month" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "person" VARCHAR(64) NOT NULL,
    "month" INT NOT NULL,
    "employer" VARCHAR(100) NOT NULL,
    CONSTRAINT "uid_social_insu_person_d2234e" UNIQUE ("person", "month")
);
COMMENT ON TABLE "social_insurance_month" IS 'One month in which social insurance was paid in the zone (any of the five insurances).';
        CREATE TABLE IF NOT EXISTS "student_record" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "person" VARCHAR(64) NOT NULL,
    "name" VARCHAR(50) NOT NULL,
    "school" VARCHAR(100) NOT NULL,
    "enrolled_on" DATE NOT NULL,
    "expected_graduation_on" DATE NOT NULL,
    CONSTRAINT "uid_student_rec_person_2e5155" UNIQUE ("person", "school", "enrolled_on")
);
CREATE INDEX IF NOT EXISTS "idx_student_rec_person_be2373" ON "student_record" ("person");
COMMENT ON TABLE "student_record" IS 'Full-time secondary or higher (vocational) education in the zone (route C).';
        CREATE TABLE IF NOT EXISTS "talent_record" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "person" VARCHAR(64) NOT NULL,
    "name" VARCHAR(50) NOT NULL,
    "category" VARCHAR(50) NOT NULL,
    "certified_on" DATE NOT NULL,
    CONSTRAINT "uid_talent_reco_person_396756" UNIQUE ("person", "category")
);
CREATE INDEX IF NOT EXISTS "idx_talent_reco_person_fff0c5" ON "talent_record" ("person");
COMMENT ON TABLE "talent_record" IS 'Certified under the zone''s talent-introduction rules (route B).';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "permit";
        DROP TABLE IF EXISTS "social_insurance_month";
        DROP TABLE IF EXISTS "residence_registration";
        DROP TABLE IF EXISTS "talent_record";
        DROP TABLE IF EXISTS "student_record";"""


MODELS_STATE = (
    "eJztXWtz4jYX/isavjSZ2d1JCLk034CQLW0SMoRtd9p0PMIW4ImRqCSHpX3z31/JF3w3Nj"
    "GJcfxlN8jnyPIj+ejROUfyf4050ZDBvrRVFS04xCq6JzrmjUvwXwPDORJ/JIl8Ag24WHgC"
    "soDDsWHpwLWwslhLjxmnUJWVT6DBkCjSEFOpvuA6wVKrDR7N0xPt/NE8bx2diX+Pxj9fgu"
    "UMUQQoYrqGMGdA3NVYAR2DBaKM4C+gSwjVdAw5EheF6Nfur5+Pmp8AZOAP1J1BDhjCGgN8"
    "huZfZEs0ooqm6Hj6ljc1sf6PiRROpkiUUXHrv/4WxTrW0A/E3J+LJ2WiI0ML9ICuyQqsco"
    "WvFlZZH/NrS1A+z1hRiWHOsSe8WPEZwWtppwumCCMqmiyr59SUXYBNw3B6ze0Vu6WeiN1E"
    "n46GJtA0ZEdKbbsBXllDUe4GI+WhN1KURqSTXQ1fFzhFKsFygIimMuvpp7IJn5vHrfPWxc"
    "lZ60KIWM1cl5y/2Lf2gLEVLXjuRo0X6zrk0JawMPZAtf6PwCp6jsbj6sqHkBVNDiPr4lhe"
    "aOfwh2IgPOUz8fP46CgFyN/bw+4v7eGBkDqUtyTiFbbf8TvnUtO+JtH20NV02QaV50HYr1"
    "MMym5BGWBuZkG5mQxyM4Ix1DRhoFgeiH0qu0LYs+3vAHE2jNNAjqBswJhBfG0QmGB/HfkQ"
    "vBOpsIcAp+B5NfjWuemB+2Gv23/oD+7kXeYr9o/hXZRFokDnFgbDXvsmDK64dS5wbfka3C"
    "zgzohJc1mHtUIFbcNOZrmFQCkXiVgrVBDhVhaAW8n4tix4JQmePPkYmywYQ/VpCammRK6Q"
    "JkmSjV6aN+fhEojh1AJOPqFsv7faIWbiQsi69GnDAmgttGndk4x3vWYo15rhSTxW/Ovew+"
    "bcwrYvGiTXvRGMXd0yv/mN+97wYXDXvrl01rnQeMTf7vqjSyDuzMNr52x2N5PZTbG6YaNr"
    "MkTzLt78OpVbwBW/slhAxpZE2NAZZLNc81tYscyjvUyrjLnJuKLOIJ4ixQUxCnyHEANBHI"
    "99UhWhLhiLOnbVB+uStyXLncHgxiLIzCHInf4ohP23205P2JnDIGl2LX7N6OJt93EW232c"
    "bLuPw8P8fZ1upQL3NIsVOU02IqcRG6JrimAhY0QVhNUoyiP0I5H+hRS3gtuZAMuCdgq6o9"
    "73UcBeuKge3La/HwaW2jeDu6+uuK8XujeDTiL6eSfNqGYh+JeIoZy1Moz1s1biWJeXktCe"
    "Q/aEElj5Jrw93SqM+JDxvshivC+SjfdFGPOZ+URMZQuvc0SxemjvhBROoG4gTTHIVMcxgC"
    "cu5yN6m1f2RU2fR7tCu5CVvc/xTFTx5ism5roRRfZKoML1OUpwQod0Q+hqjvIX94/9G9tp"
    "c2f/tvcwat/eBybQq/aoJ680g35qp/TgLDTq15WAP/qjX4D8Cf4c3Fku7QVhfEqtO3pyoz"
    "8bsk3Q5ETBZCltiQ8Tt9gtCvQ0RdCQfyvPiOriiTQlLqCT3uNJddQ9vxc9P0eim3JRhBjV"
    "Ks5ZRfuN1rCJVTEnWwG+1qwe3ieZOMJJCkc4iXIEVSDHtzJqQc0CTFnp1tviAbUBNlbOwN"
    "gT2+aM4VTTJr3xSq4Qj09jKzZYtjerAD4YCTUG8Y2Ce00o0qf4N7SKhHpCmDqhwm9ONfuF"
    "7Ys7dtxSr4kULtexRv+QEo8uHhi5qQgPo2G/KyBOjt16UIuaGY9bwHccxevfhsiA1kMkAj"
    "2yK7EzL78xtI/uwSTYX3LFuT1gx+I59Lj8GhfYAUYjIv7ZDG/Hq6oaQ/klZzqAC0BMOoAP"
    "m+R0AF9fbE6DHs2Qm0Ms45YAYuCkEwCdgbH4QwOcADE3XAKCEUBQnYElXEVzm19VU518UK"
    "7kA7JAOA7YZFLtaVQu5l28R9l6G7ag0X69mkTvE4l2TGE+Hh1UKsaxuvdm61VJe5EOifaG"
    "y1Qy0m5fht5edUVW4h0cgwHu3W0/dNtXvRD1flUq5D2icz02E9K5ksp8Fp5Mtv1fauv00W"
    "xNWpNH82KsHids2IqTqglLuQiL3fXC/ObhLAGlytGWk2YWD2Az2QHYjKTqWXmaORFmsYu9"
    "CmyyKp4W1hlLu8xYYsxEYnqKGb+SdCeYX79SGuPeQ8DTdgQJxhzZmsa4grBGKMuNYpzuK8"
    "Esp+8nI5aMmFRNeNM3J/d72m/33jf0+YJQ3sgHX6MzGF2CMeGPuH97PxiKH7563iW5vyRb"
    "fob2Zn8VDdFU7kSGDmIR2hsvmMqCqaui0LBOblZ8fnY+lqx3fCRUKJmDOXlGn3UMrIQUAO"
    "3fxLR8fBpSDUiRtplGb19tDO/+y8cyXFnHyLhpYH/X3Pw9Tz+wEiBzEZu1Rs3Ka1Zes/Lq"
    "svKynt0RQ4Fykp/SJErVR3e8Rf70jJgMCQi1XLYiqFW5wVzMNv0wzOL+NkY5gfbrVQ7q4v"
    "c+Sw6u6DjnWj+o9aFdJqHFSFYEQ2ofGkJrNIl14DaD0FP7yL6mJaFPCwMmuZvi8QsoVdBU"
    "7uB4HopgzlWYp1EjnAVhNEdUYKKulNwb52NUq4d54Rvo99BNPSYV8FHXWy6yQV+tbLGSRC"
    "YeiKpDQ7zVJpWv9S3B1siOBCZi5T6lxSWYpSHWBo6KMl/rbIxLDDAClrg8Fnk509UZsKsD"
    "6+rAEjKwgLomRfgMgX9llvEBxCtAJlbBRH9Gnjw7jMYpdnebDXELG4pXhSk6+vSjRCp+bj"
    "ZPTs6bRydnF6et8/PTi6N1yCJ6KS120el/leGLwGueKdeodA73d3SnFe9xXxuGjIG4tfzb"
    "nT1Q+nCcnzcvDLLKF4Dz61SPKRe1OinLlM1N+eGAIVLlKWxxc3VAIH2StkUV6slunJyvRX"
    "M+SxIJmNDCGqRiLqRgpk/FTAcOnolqZSBA4xAgzbR/BGdPSkyOQDdmRi647g3TMFNnzol1"
    "CFNiGLYTrs4eeOfM3tLNtnV4u5JMpvjwtmdQssLraVQQ4N34BX2mOgJ0cowgpPahwyzoxw"
    "Kp0lk0pVAzrUk0L5qJNXw4YEvCCkfQSCWFgeupnJBbkrkoYRdRbh1eBUzRTXRNx35iwK7t"
    "s8CTEsHYLMJGTQMxl6p1YmhgAfVtoH6COqIpoaua7dVsr2Z7Ndvbhu2tbUgOgP06NchZQH"
    "angpwMJaxX85J34iWR45PiyEncGUspDMUWV5ZIFfKK6Spk2O/iP7KGy7+IDPIsKHkWZEPS"
    "DGcDvGAaVu4AWOp8Jg+3ebh9ADJxUzwgsf4AGP3gwBpDEf6yw/vE8hrf6QbOwSw1rfnY5+"
    "mUalYonte84sDd4s/ZLR341cqUKOW5Ou/dxbs9ozLxtJzcx1S+4ryccjCs4k/MeTPqZR0R"
    "GsO23KNDkwmWe0Zp1u+qn9pbfTVw4EaSZdTO9m0fXgI5uQnaQ4RJAoIK2UcFOh9xB9ZH3J"
    "O+nV5MxfXpPeWiR7VXYrchEpOpMR9pSvuEobr9t5lKNnR3/KGaOkH3o9DOHP6TCHGK2X2b"
    "58jp7KSpnHuVXnnOdE6ak+5ayupT2sKXNCGGQZaSktiZwGQy0a3sYWcUfAJPYkBhMF6BgS"
    "Aq/as4lrNdJTWjKRejeX+HT4lm3eLdPcwcy3aNY8/yT/twbVDxDT9X66K/t1+r9ZDbgutE"
    "lOuvWZX5a1YmflVvx6jX/V3m/q4XMckz2YddxOySorcR1dXYfYXOlVRqDj2ZTaw8uZ9rxl"
    "wuxvyMKNPzpX75VCroCWyenmagzUIq+ZgqeS10GJh4qXIg7IhXEN2d+FnFHTmKC5P9+jC4"
    "S5hAPZXw7KmrHPwPGDrb42hZHLgSjMAU6WJ6cNv+Hoa7ezPohOc+WUHnvTOaXv4PEqQFeA"
    "=="
)
