"""The text report's parts: the findings block it starts with, and the classic lines after it."""

from __future__ import annotations


def classic_text(text: str) -> str:
    """The report after its findings block ("Findings:" ... "Reconstructable: ..." and an empty
    line), which starts with the classic "Total Sessions:" line."""
    assert text.startswith("Findings:\n"), text[:200]
    head, sep, rest = text.partition("\nReconstructable: ")
    assert sep, text[:400]
    _, blank, classic = rest.partition("\n\n")
    assert blank, text[:400]
    return classic
