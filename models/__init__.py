"""Transformer inference, the only package that imports torch and transformers.

`models.ner.load_ner` and `models.nli.load_nli` return runners; `models.loading` resolves, pulls and places models.
"""
