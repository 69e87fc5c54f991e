#!/usr/bin/env python3
"""The review step after `init --cases-from`: put the human relevance labels into the test data.

init fills each case's "expected" from what the current ranker returns (marked "source":
"bootstrap"), which only says what the code does today. A person then corrects those lists;
here the corrections are already written down, as "relevant" in labelled_queries.json. This
copies them over by case id and drops the bootstrap marks. It does not invent labels: a case
without one is left as it is and named on stderr.

    python3 apply_labels.py autoresearch_test_data.json
"""
import json
import os
import sys
from pathlib import Path

LABELS_PATH = Path(__file__).with_name("labelled_queries.json")


def apply_labels(test_data_path):
    labels = {item["id"]: item["relevant"] for item in json.loads(LABELS_PATH.read_text(encoding="utf-8"))}
    document = json.loads(test_data_path.read_text(encoding="utf-8"))
    corrected, unlabelled = 0, []
    for case in document["cases"]:
        relevant = labels.get(case["id"])
        if relevant is None:
            unlabelled.append(case["id"])
            continue
        if case.get("expected") != relevant:
            corrected += 1
        case["expected"] = relevant
        case.pop("source", None)
        case["note"] = "relevance labelled by hand"
    temporary = test_data_path.with_name(test_data_path.name + ".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, test_data_path)  # a half-written test data file would poison the baseline
    labelled = len(document["cases"]) - len(unlabelled)
    print("Labelled %d cases in %s; %d differed from what the current code returns." % (labelled, test_data_path, corrected), file=sys.stderr)
    if unlabelled:
        print("No label for: %s" % ", ".join(unlabelled), file=sys.stderr)
    return 1 if unlabelled else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("Usage: python3 apply_labels.py TEST_DATA.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(apply_labels(Path(sys.argv[1])))
