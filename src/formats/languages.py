"""The languages m2m100 translates, and how clients name them.

`lookup(value)` accepts a DeepL code (`EN-US`, `ZH-HANS`, `PT-BR`, `NB`), a BCP-47 tag (`zh-CN`,
`sr-Latn`, `pt_BR`), an ISO 639-1/-2 code (`de`, `deu`) or a common name (`German`, `Deutsch`,
`simplified chinese`) and returns m2m100's own code, which is what we send to Workers AI.
`display(code)` is the DeepL-style upper-case code used in responses (`EN`, `ZH`, `AST`).
"""

from __future__ import annotations

# m2m100's 100 languages (facebook/m2m100_1.2B), code -> English names, first one canonical.
M2M100: dict[str, tuple[str, ...]] = {
    "af": ("afrikaans",),
    "am": ("amharic",),
    "ar": ("arabic",),
    "ast": ("asturian",),
    "az": ("azerbaijani", "azeri"),
    "ba": ("bashkir",),
    "be": ("belarusian",),
    "bg": ("bulgarian",),
    "bn": ("bengali", "bangla"),
    "br": ("breton",),
    "bs": ("bosnian",),
    "ca": ("catalan", "valencian"),
    "ceb": ("cebuano",),
    "cs": ("czech",),
    "cy": ("welsh",),
    "da": ("danish",),
    "de": ("german",),
    "el": ("greek",),
    "en": ("english",),
    "es": ("spanish", "castilian"),
    "et": ("estonian",),
    "fa": ("persian", "farsi"),
    "ff": ("fulah", "fula", "fulani"),
    "fi": ("finnish",),
    "fr": ("french",),
    "fy": ("western frisian", "frisian"),
    "ga": ("irish", "irish gaelic"),
    "gd": ("scottish gaelic", "gaelic"),
    "gl": ("galician",),
    "gu": ("gujarati",),
    "ha": ("hausa",),
    "he": ("hebrew",),
    "hi": ("hindi",),
    "hr": ("croatian",),
    "ht": ("haitian creole", "haitian"),
    "hu": ("hungarian",),
    "hy": ("armenian",),
    "id": ("indonesian",),
    "ig": ("igbo",),
    "ilo": ("iloko", "ilocano"),
    "is": ("icelandic",),
    "it": ("italian",),
    "ja": ("japanese",),
    "jv": ("javanese",),
    "ka": ("georgian",),
    "kk": ("kazakh",),
    "km": ("khmer", "central khmer", "cambodian"),
    "kn": ("kannada",),
    "ko": ("korean",),
    "lb": ("luxembourgish", "letzeburgesch"),
    "lg": ("ganda", "luganda"),
    "ln": ("lingala",),
    "lo": ("lao",),
    "lt": ("lithuanian",),
    "lv": ("latvian",),
    "mg": ("malagasy",),
    "mk": ("macedonian",),
    "ml": ("malayalam",),
    "mn": ("mongolian",),
    "mr": ("marathi",),
    "ms": ("malay",),
    "my": ("burmese", "myanmar"),
    "ne": ("nepali",),
    "nl": ("dutch", "flemish"),
    "no": ("norwegian", "norwegian bokmal", "norwegian bokmål", "bokmal", "bokmål"),
    "ns": ("northern sotho", "sepedi", "pedi"),
    "oc": ("occitan",),
    "or": ("oriya", "odia"),
    "pa": ("punjabi", "panjabi"),
    "pl": ("polish",),
    "ps": ("pashto", "pushto"),
    "pt": ("portuguese",),
    "ro": ("romanian", "moldavian", "moldovan"),
    "ru": ("russian",),
    "sd": ("sindhi",),
    "si": ("sinhala", "sinhalese"),
    "sk": ("slovak",),
    "sl": ("slovenian", "slovene"),
    "so": ("somali",),
    "sq": ("albanian",),
    "sr": ("serbian",),
    "ss": ("swati", "swazi"),
    "su": ("sundanese",),
    "sv": ("swedish",),
    "sw": ("swahili",),
    "ta": ("tamil",),
    "th": ("thai",),
    "tl": ("tagalog", "filipino"),
    "tn": ("tswana", "setswana"),
    "tr": ("turkish",),
    "uk": ("ukrainian",),
    "ur": ("urdu",),
    "uz": ("uzbek",),
    "vi": ("vietnamese",),
    "wo": ("wolof",),
    "xh": ("xhosa",),
    "yi": ("yiddish",),
    "yo": ("yoruba",),
    "zh": ("chinese", "mandarin"),
    "zu": ("zulu",),
}

# Names in the language itself, as clients and people often send them.
_ENDONYMS: dict[str, str] = {
    "中文": "zh",
    "汉语": "zh",
    "漢語": "zh",
    "简体中文": "zh",
    "繁體中文": "zh",
    "繁体中文": "zh",
    "日本語": "ja",
    "한국어": "ko",
    "deutsch": "de",
    "français": "fr",
    "francais": "fr",
    "español": "es",
    "espanol": "es",
    "português": "pt",
    "portugues": "pt",
    "italiano": "it",
    "nederlands": "nl",
    "polski": "pl",
    "русский": "ru",
    "українська": "uk",
    "türkçe": "tr",
    "tiếng việt": "vi",
    "čeština": "cs",
    "svenska": "sv",
    "dansk": "da",
    "norsk": "no",
    "suomi": "fi",
    "magyar": "hu",
    "română": "ro",
    "ελληνικά": "el",
    "العربية": "ar",
    "עברית": "he",
    "فارسی": "fa",
    "हिन्दी": "hi",
    "ไทย": "th",
    "bahasa indonesia": "id",
    "bahasa melayu": "ms",
}

# Tags and codes that differ from m2m100's: deprecated ISO codes, macrolanguages, ISO 639-2/3.
_CODE_ALIASES: dict[str, str] = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
    "nb": "no",
    "nn": "no",
    "nob": "no",
    "nno": "no",
    "nor": "no",
    "fil": "tl",
    "nso": "ns",
    "zho": "zh",
    "chi": "zh",
    "cmn": "zh",
    "eng": "en",
    "deu": "de",
    "ger": "de",
    "fra": "fr",
    "fre": "fr",
    "spa": "es",
    "por": "pt",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "rus": "ru",
    "ara": "ar",
    "arb": "ar",
    "hin": "hi",
    "nld": "nl",
    "dut": "nl",
    "pol": "pl",
    "tur": "tr",
    "ukr": "uk",
    "vie": "vi",
    "ind": "id",
    "zsm": "ms",
    "pes": "fa",
    "fas": "fa",
    "per": "fa",
    "swe": "sv",
    "ces": "cs",
    "cze": "cs",
    "ell": "el",
    "gre": "el",
    "heb": "he",
    "tha": "th",
    "ron": "ro",
    "rum": "ro",
    "hun": "hu",
    "fin": "fi",
    "dan": "da",
    "bul": "bg",
    "cat": "ca",
}

_BY_NAME: dict[str, str] = {
    **{name: code for code, names in M2M100.items() for name in names},
    **_ENDONYMS,
}
_NAME_PREFIXES = ("simplified ", "traditional ")
_NAME_SUFFIXES = (" simplified", " traditional", " (simplified)", " (traditional)")


def lookup(value: str) -> str | None:
    """m2m100's code for a language as a client names it, or None when m2m100 lacks it."""
    text = value.strip().lower().replace("_", "-")
    if not text:
        return None
    if text in M2M100:
        return text
    if text in _CODE_ALIASES:
        return _CODE_ALIASES[text]
    if text in _BY_NAME:
        return _BY_NAME[text]
    for prefix in _NAME_PREFIXES:
        if text.startswith(prefix) and text[len(prefix) :] in _BY_NAME:
            return _BY_NAME[text[len(prefix) :]]
    for suffix in _NAME_SUFFIXES:
        if text.endswith(suffix) and text[: -len(suffix)] in _BY_NAME:
            return _BY_NAME[text[: -len(suffix)]]
    # A BCP-47 tag or DeepL variant: the primary subtag decides (zh-Hant, pt-BR, sr-Latn, EN-US).
    primary, dash, _rest = text.partition("-")
    if dash and primary != text and len(primary) in (2, 3) and primary.isascii():
        return lookup(primary)
    return None


# DeepL names Norwegian Bokmål `NB`; every other code is m2m100's, upper-cased.
_DISPLAY = {"no": "NB"}

# DeepL's regional and script variants, which DeepL lists only as target languages: code ->
# (m2m100 code, DeepL's name). m2m100 has one version of each, so a variant gets that one.
DEEPL_TARGET_VARIANTS: dict[str, tuple[str, str]] = {
    "EN-GB": ("en", "English (British)"),
    "EN-US": ("en", "English (American)"),
    "ES-419": ("es", "Spanish (Latin American)"),
    "PT-BR": ("pt", "Portuguese (Brazilian)"),
    "PT-PT": ("pt", "Portuguese (European)"),
    "ZH-HANS": ("zh", "Chinese (simplified)"),
    "ZH-HANT": ("zh", "Chinese (traditional)"),
}
# Languages DeepL lists as targets only through their variants (plain `EN`/`PT` are deprecated
# targets); `ES` and `ZH` stay listed beside theirs, as DeepL does.
DEEPL_VARIANT_ONLY_TARGETS = frozenset({"en", "pt"})
# DeepL's names where they differ from `name`.
_DEEPL_NAMES = {"no": "Norwegian (Bokmål)"}
_DEEPL_TARGET_NAMES = {"zh": "Chinese (simplified)"}


def display(code: str) -> str:
    """The DeepL-style code of an m2m100 language (`EN`, `ZH`, `NB`, `AST`)."""
    return _DISPLAY.get(code, code.upper())


def name(code: str) -> str:
    """The English name of an m2m100 language, for messages."""
    return M2M100[code][0].title() if code in M2M100 else code


def deepl_name(code: str, *, target: bool = False) -> str:
    """The name DeepL's language list gives an m2m100 language (`Norwegian (Bokmål)`)."""
    if target and code in _DEEPL_TARGET_NAMES:
        return _DEEPL_TARGET_NAMES[code]
    return _DEEPL_NAMES.get(code, name(code))
