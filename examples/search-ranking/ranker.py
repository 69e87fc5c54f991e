"""Search for the kitchen knowledge base: BM25 over title, body and tags, plus priors.

rank("how to sharpen a kitchen knife", k=3)  # with the weights below, a digest comes first:
    -> ["kitchen-digest-2024-01", "knife-sharpening-whetstone", "kitchen-digest-2024-06"]

Scores each document with a per-field BM25 (weighted by FIELD_WEIGHTS), a bonus for
query word pairs found side by side, and a recency prior. The corpus is corpus.json
beside this file, indexed once at import. No synonyms, no spelling correction, no
learned model: the numbers below are the whole tuning surface. Deterministic.
"""
import json
import math
import re
from pathlib import Path

CORPUS_PATH = Path(__file__).with_name("corpus.json")

# How much a query word found in each field counts, relative to the others.
FIELD_WEIGHTS = {"title": 0.5, "body": 1.0, "tags": 0.25}
BM25_K1 = 0.8  # term-frequency saturation: higher lets repeated words keep adding score
BM25_B = 0.2  # length normalisation, 0 (none) to 1 (full): long documents match more words by chance
PHRASE_BONUS = 0.0  # added per pair of adjacent query words found side by side in the title or body
RECENCY_WEIGHT = 4.0  # score for the newest document, decaying with age
RECENCY_HALF_LIFE_DAYS = 365  # days after which the recency prior has halved

STOPWORDS = {"a", "an", "and", "are", "at", "by", "do", "for", "from", "how", "i", "in", "is", "it",
             "my", "of", "on", "or", "the", "to", "too", "what", "when", "why", "with", "without"}
FIELDS = ("title", "body", "tags")


def tokenize(text):
    """Lower-case words without stopwords, crudely stemmed so "rising" meets "rise"."""
    return [stem(word) for word in re.findall(r"[a-z0-9]+", text.lower()) if word not in STOPWORDS]


def stem(word):
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix) and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def days_since_epoch(date_text):
    year, month, day = (int(part) for part in date_text.split("-"))
    return year * 365.25 + (month - 1) * 30.44 + day  # ordering and rough ages are all the prior needs


def build_index(documents):
    """Tokens per field, average field lengths, document frequencies and ages in days."""
    fields = [{name: tokenize(" ".join(doc[name]) if name == "tags" else doc[name]) for name in FIELDS} for doc in documents]
    average_length = {name: sum(len(entry[name]) for entry in fields) / len(fields) for name in FIELDS}
    document_frequency = {}
    for entry in fields:
        for term in set(entry["title"] + entry["body"] + entry["tags"]):
            document_frequency[term] = document_frequency.get(term, 0) + 1
    newest = max(days_since_epoch(doc["updated"]) for doc in documents)
    ages = [newest - days_since_epoch(doc["updated"]) for doc in documents]
    return {"documents": documents, "fields": fields, "average_length": average_length,
            "document_frequency": document_frequency, "ages": ages}


def inverse_document_frequency(term, index):
    count = len(index["documents"])
    frequency = index["document_frequency"].get(term, 0)
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def field_bm25(terms, tokens, average_length, index):
    score = 0.0
    for term in terms:
        frequency = tokens.count(term)
        if frequency:
            normaliser = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / average_length)
            score += inverse_document_frequency(term, index) * frequency * (BM25_K1 + 1) / (frequency + normaliser)
    return score


def adjacent_pairs(tokens):
    return set(zip(tokens, tokens[1:]))


def score_document(terms, position, index):
    entry = index["fields"][position]
    text_score = sum(FIELD_WEIGHTS[name] * field_bm25(terms, entry[name], index["average_length"][name], index) for name in FIELDS)
    if text_score <= 0:
        return None  # no query word matched: not a result, however recent
    query_pairs = adjacent_pairs(terms)
    phrase_matches = len(query_pairs & (adjacent_pairs(entry["title"]) | adjacent_pairs(entry["body"])))
    recency = 0.5 ** (index["ages"][position] / RECENCY_HALF_LIFE_DAYS)
    return text_score + PHRASE_BONUS * phrase_matches + RECENCY_WEIGHT * recency


def rank(query: str, k: int = 10) -> list[str]:
    """The ids of the k best documents for `query`, best first; ties break by id."""
    terms = tokenize(query)
    scored = []
    for position, doc in enumerate(INDEX["documents"]):
        score = score_document(terms, position, INDEX)
        if score is not None:
            scored.append((-score, doc["id"]))
    return [doc_id for _, doc_id in sorted(scored)[:k]]


with CORPUS_PATH.open(encoding="utf-8") as corpus_file:
    INDEX = build_index(json.load(corpus_file))
