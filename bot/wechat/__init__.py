"""The WeChat callback protocol: signatures, encryption, parsing and reply rendering.

Nothing here knows about flows; handlers and flows never see XML.
"""
