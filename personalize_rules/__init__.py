"""Amazon Personalize's documented rules, in one package at the bottom of the project.

Dataset schema rules, the filter-expression grammar and evaluator, recipe and hyperparameter specs and the
metric names live here. The CLI (`pipeline`), the local emulator (`local_stack`) and the API Lambda
(`chalicelib`) import this package; it imports none of them, so a rule is written once.
"""
