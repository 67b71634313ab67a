"""The extractive answerer, the default: verbatim sentences from the retrieved passages, each cited.

answerer.py decides (answer, refuse, or say what a speaker is quoted as saying); evidence.py lists the sentences
that may be quoted; scoring.py scores them for answering the question; answer_type.py knows what kind of answer a
question asks for and which words of a sentence could be it.
"""

from app.answering.extractive.answerer import ExtractiveAnswerer, figures_in, unmentioned_figures

__all__ = ["ExtractiveAnswerer", "figures_in", "unmentioned_figures"]
