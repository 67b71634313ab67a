"""Place names: the countries of the world and the US states, with their demonyms, and a few regions.

Two uses: the quote extractor must not take `North Carolina` or `South Korea` for a person, and the extractive
answerer checks that the answer to "which country/state ...?" names one (app/answering/extractive/answer_type.py).
Written by hand from public knowledge; folded (lower case, no accents) for lookup.
"""

from __future__ import annotations

from functools import lru_cache

_COUNTRY_LIST = [
    "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Argentina", "Armenia", "Australia", "Austria",
    "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados", "Belarus", "Belgium", "Belize", "Benin", "Bhutan",
    "Bolivia", "Bosnia", "Botswana", "Brazil", "Brunei", "Bulgaria", "Burkina Faso", "Burundi", "Cambodia",
    "Cameroon", "Canada", "Cape Verde", "Chad", "Chile", "China", "Colombia", "Comoros", "Congo", "Costa Rica",
    "Croatia", "Cuba", "Cyprus", "Czechia", "Czech Republic", "Denmark", "Djibouti", "Dominica",
    "Dominican Republic", "Ecuador", "Egypt", "El Salvador", "Equatorial Guinea", "Eritrea", "Estonia", "Eswatini",
    "Ethiopia", "Fiji", "Finland", "France", "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Greece", "Grenada",
    "Guatemala", "Guinea", "Guyana", "Haiti", "Honduras", "Hungary", "Iceland", "India", "Indonesia", "Iran", "Iraq",
    "Ireland", "Israel", "Italy", "Ivory Coast", "Jamaica", "Japan", "Jordan", "Kazakhstan", "Kenya", "Kiribati",
    "Kosovo", "Kuwait", "Kyrgyzstan", "Laos", "Latvia", "Lebanon", "Lesotho", "Liberia", "Libya", "Liechtenstein",
    "Lithuania", "Luxembourg", "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali", "Malta", "Mauritania",
    "Mauritius", "Mexico", "Micronesia", "Moldova", "Monaco", "Mongolia", "Montenegro", "Morocco", "Mozambique",
    "Myanmar", "Burma", "Namibia", "Nauru", "Nepal", "Netherlands", "Holland", "New Zealand", "Nicaragua", "Niger",
    "Nigeria", "North Korea", "North Macedonia", "Norway", "Oman", "Pakistan", "Palau", "Palestine", "Panama",
    "Papua New Guinea", "Paraguay", "Peru", "Philippines", "Poland", "Portugal", "Qatar", "Romania", "Russia",
    "Rwanda", "Samoa", "San Marino", "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Sierra Leone", "Singapore",
    "Slovakia", "Slovenia", "Somalia", "South Africa", "South Korea", "South Sudan", "Spain", "Sri Lanka", "Sudan",
    "Suriname", "Sweden", "Switzerland", "Syria", "Taiwan", "Tajikistan", "Tanzania", "Thailand", "Togo", "Tonga",
    "Trinidad and Tobago", "Tunisia", "Turkey", "Türkiye", "Turkmenistan", "Tuvalu", "Uganda", "Ukraine",
    "United Arab Emirates", "UAE", "United Kingdom", "UK", "Britain", "Great Britain", "England", "Scotland",
    "Wales", "Northern Ireland", "United States", "US", "U.S.", "USA", "America", "Uruguay", "Uzbekistan",
    "Vanuatu", "Vatican", "Venezuela", "Vietnam", "Yemen", "Zambia", "Zimbabwe", "Greenland", "Puerto Rico",
    "Hong Kong", "Gaza", "Crimea",
]
_STATE_LIST = [
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
    "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio", "Oklahoma",
    "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas", "Utah",
    "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming", "District of Columbia",
]
# Demonyms that name a country in an answer ("the French government" answers "which country?").
_DEMONYMS = {
    "Afghan": "Afghanistan", "Albanian": "Albania", "Algerian": "Algeria", "Argentine": "Argentina",
    "Argentinian": "Argentina", "Armenian": "Armenia", "Australian": "Australia", "Austrian": "Austria",
    "Belgian": "Belgium", "Brazilian": "Brazil", "British": "United Kingdom", "Bulgarian": "Bulgaria",
    "Canadian": "Canada", "Chilean": "Chile", "Chinese": "China", "Colombian": "Colombia", "Croatian": "Croatia",
    "Cuban": "Cuba", "Czech": "Czechia", "Danish": "Denmark", "Dutch": "Netherlands", "Egyptian": "Egypt",
    "English": "England", "Estonian": "Estonia", "Ethiopian": "Ethiopia", "Filipino": "Philippines",
    "Finnish": "Finland", "French": "France", "Georgian": "Georgia", "German": "Germany", "Greek": "Greece",
    "Haitian": "Haiti", "Hungarian": "Hungary", "Icelandic": "Iceland", "Indian": "India",
    "Indonesian": "Indonesia", "Iranian": "Iran", "Iraqi": "Iraq", "Irish": "Ireland", "Israeli": "Israel",
    "Italian": "Italy", "Jamaican": "Jamaica", "Japanese": "Japan", "Jordanian": "Jordan", "Kenyan": "Kenya",
    "Korean": "Korea", "Kuwaiti": "Kuwait", "Latvian": "Latvia", "Lebanese": "Lebanon", "Libyan": "Libya",
    "Lithuanian": "Lithuania", "Malaysian": "Malaysia", "Mexican": "Mexico", "Moroccan": "Morocco",
    "Nigerian": "Nigeria", "Norwegian": "Norway", "Pakistani": "Pakistan", "Palestinian": "Palestine",
    "Peruvian": "Peru", "Polish": "Poland", "Portuguese": "Portugal", "Qatari": "Qatar", "Romanian": "Romania",
    "Russian": "Russia", "Saudi": "Saudi Arabia", "Scottish": "Scotland", "Serbian": "Serbia",
    "Singaporean": "Singapore", "Slovak": "Slovakia", "Somali": "Somalia", "Spanish": "Spain",
    "Sudanese": "Sudan", "Swedish": "Sweden", "Swiss": "Switzerland", "Syrian": "Syria", "Taiwanese": "Taiwan",
    "Thai": "Thailand", "Tunisian": "Tunisia", "Turkish": "Turkey", "Ukrainian": "Ukraine", "American": "United States",
    "Venezuelan": "Venezuela", "Vietnamese": "Vietnam", "Welsh": "Wales", "Yemeni": "Yemen",
    "Emirati": "United Arab Emirates", "Greenlandic": "Greenland",
}
_REGIONS = ["Africa", "Asia", "Europe", "North America", "South America", "Latin America", "Middle East",
            "Caribbean", "Pacific", "Atlantic", "Arctic", "Antarctica", "Midwest", "Balkans", "Scandinavia",
            "Gulf", "Persian Gulf", "Gulf Coast", "East Coast", "West Coast", "New England", "Southeast Asia"]
# First words that make a run of capitalised words a place, not a person ("North Carolina", "Western Europe").
PLACE_HEADS = frozenset("north south east west northern southern eastern western central new upper lower greater "
                        "san santa los las st saint fort port mount lake".split())


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


COUNTRY_NAMES = frozenset(_fold(c) for c in _COUNTRY_LIST)
STATE_NAMES = frozenset(_fold(s) for s in _STATE_LIST)
DEMONYMS = {_fold(k): _fold(v) for k, v in _DEMONYMS.items()}
REGION_NAMES = frozenset(_fold(r) for r in _REGIONS)


@lru_cache(maxsize=16384)  # the same names come back in every sentence of an article
def is_place(name: str) -> bool:
    """A country, a US state, a region, or a run that starts like a place name ('North ...', 'San ...')."""
    folded = _fold(name).removeprefix("the ")
    return (folded in COUNTRY_NAMES or folded in STATE_NAMES or folded in REGION_NAMES
            or (" " in folded and folded.split()[0] in PLACE_HEADS))
