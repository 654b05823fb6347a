"""Where a question or a sentence is about: countries, cities and the regions they belong to.

Shared by retrieval (a city in the question also searches for its country) and the offline
engine (a region's pay figure, or a sentence about a sub-region).
"""

from __future__ import annotations

import re

REGIONS: dict[str, list[str]] = {
    "the United States": [
        "united states",
        "usa",
        "u.s.",
        "america",
        "american",
        "san francisco",
        "new york",
        "austin",
    ],
    "Germany": ["germany", "german", "berlin"],
    "Europe": ["europe", "european", "eu"],
    "India": ["india", "indian", "bangalore", "bengaluru", "mumbai"],
    "the United Kingdom": ["united kingdom", "uk", "britain", "british", "england", "london"],
    "Canada": ["canada", "canadian", "toronto"],
    "Australia": ["australia", "australian", "sydney"],
    "France": ["france", "french", "paris"],
    "Spain": ["spain", "spanish", "madrid"],
    "the Netherlands": ["netherlands", "dutch", "amsterdam"],
    "Ireland": ["ireland", "irish", "dublin"],
    "Brazil": ["brazil", "brazilian", "são paulo", "sao paulo"],
    "Mexico": ["mexico", "mexican", "mexico city"],
    "Latin America": ["latin america", "latam"],
    "Asia": ["asia", "asian"],
    "Singapore": ["singapore"],
    "the Philippines": ["philippines", "filipino", "manila"],
    "Japan": ["japan", "japanese", "tokyo"],
    "China": ["china", "chinese"],
    "Poland": ["poland", "polish", "warsaw"],
    "Nigeria": ["nigeria", "lagos"],
    "South Africa": ["south africa"],
    "Russia": ["russia", "russian", "moscow"],
    "the UAE": ["uae", "dubai", "emirates"],
}
# "in the US" must not be read from "tell us"
US_RE = re.compile(r"\b(?:US|U\.S\.|USA)\b|\bin the us\b|\bus (?:salary|pay|market)\b")


def detect_region(question: str) -> str | None:
    if US_RE.search(question):
        return "the United States"
    q = question.lower()
    best: tuple[int, str] | None = None
    for name, aliases in REGIONS.items():
        for a in aliases:
            m = re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", q)
            if m and (best is None or m.start() < best[0]):
                best = (m.start(), name)
    return best[1] if best else None


PARENT = {
    "India": "Asia",
    "Singapore": "Asia",
    "the Philippines": "Asia",
    "Japan": "Asia",
    "China": "Asia",
    "Germany": "Europe",
    "France": "Europe",
    "Spain": "Europe",
    "the Netherlands": "Europe",
    "Ireland": "Europe",
    "Poland": "Europe",
    "the United Kingdom": "Europe",
    "Brazil": "Latin America",
    "Mexico": "Latin America",
}


def region_hit(sentence: str, region: str) -> bool:
    """A sentence about India answers a question about Asia."""
    if any(region_hit_one(sentence, child) for child, parent in PARENT.items() if parent == region):
        return True
    return region_hit_one(sentence, region)


def region_hit_one(sentence: str, region: str) -> bool:
    s = sentence.lower()
    if region == "the United States" and re.search(r"\b(US|U\.S\.|USA)\b", sentence):
        return True
    return (
        any(re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", s) for a in REGIONS[region])
        or region.lower() in s
    )


def with_region_hint(query: str) -> str:
    """ "CSM pay in Bangalore" also searches for "India", the name the guides use."""
    region = detect_region(query)
    if region and region.lower().removeprefix("the ") not in query.lower():
        return f"{query} ({region})"
    return query
