"""Translation: m2m100 (`{translated_text}`) and IndicTrans2 (`{translations}`).

The "translation" is `[<target code>] <text>`, with the text kept byte for byte (unicode,
newlines, spacing), so callers can check both the language routing and text fidelity.
"""

from __future__ import annotations

from emulator import schema
from emulator.calls import Call, Json, Result
from emulator.errors import invalid_input

# The 100 languages of M2M-100.
M2M100_CODES = frozenset({
    "af", "am", "ar", "ast", "az", "ba", "be", "bg", "bn", "br", "bs", "ca", "ceb", "cs", "cy",
    "da", "de", "el", "en", "es", "et", "fa", "ff", "fi", "fr", "fy", "ga", "gd", "gl", "gu",
    "ha", "he", "hi", "hr", "ht", "hu", "hy", "id", "ig", "ilo", "is", "it", "ja", "jv", "ka",
    "kk", "km", "kn", "ko", "lb", "lg", "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr",
    "ms", "my", "ne", "nl", "no", "ns", "oc", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sd",
    "si", "sk", "sl", "so", "sq", "sr", "ss", "su", "sv", "sw", "ta", "th", "tl", "tn", "tr",
    "uk", "ur", "uz", "vi", "wo", "xh", "yi", "yo", "zh", "zu",
})  # fmt: skip
# Names Cloudflare's samples use ("english", "french"), plus common others.
LANGUAGE_NAMES = {
    "afrikaans": "af", "arabic": "ar", "bengali": "bn", "bulgarian": "bg", "catalan": "ca",
    "chinese": "zh", "croatian": "hr", "czech": "cs", "danish": "da", "dutch": "nl",
    "english": "en", "estonian": "et", "finnish": "fi", "french": "fr", "german": "de",
    "greek": "el", "hebrew": "he", "hindi": "hi", "hungarian": "hu", "indonesian": "id",
    "italian": "it", "japanese": "ja", "korean": "ko", "latvian": "lv", "lithuanian": "lt",
    "malay": "ms", "norwegian": "no", "persian": "fa", "polish": "pl", "portuguese": "pt",
    "romanian": "ro", "russian": "ru", "serbian": "sr", "slovak": "sk", "slovenian": "sl",
    "spanish": "es", "swahili": "sw", "swedish": "sv", "tagalog": "tl", "tamil": "ta",
    "thai": "th", "turkish": "tr", "ukrainian": "uk", "urdu": "ur", "vietnamese": "vi",
}  # fmt: skip

M2M100_SCHEMA = {
    "type": "object",
    "required": ["text", "target_lang"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "source_lang": {"type": "string"},
        "target_lang": {"type": "string"},
    },
}
INDIC_TARGETS = [
    "asm_Beng", "awa_Deva", "ben_Beng", "bho_Deva", "brx_Deva", "doi_Deva", "eng_Latn",
    "gom_Deva", "gon_Deva", "guj_Gujr", "hin_Deva", "hne_Deva", "kan_Knda", "kas_Arab",
    "kas_Deva", "kha_Latn", "lus_Latn", "mag_Deva", "mai_Deva", "mal_Mlym", "mar_Deva",
    "mni_Beng", "mni_Mtei", "npi_Deva", "ory_Orya", "pan_Guru", "san_Deva", "sat_Olck",
    "snd_Arab", "snd_Deva", "tam_Taml", "tel_Telu", "urd_Arab", "unr_Deva",
]  # fmt: skip
INDIC_SCHEMA = {
    "type": "object",
    "required": ["text", "target_language"],
    "properties": {
        "text": {"type": ["string", "array"], "minLength": 1, "items": {"type": "string"}},
        "target_language": {"enum": INDIC_TARGETS},
    },
}


def language_code(value: str, field: str) -> str:
    """An M2M-100 code from a code or an English language name; 3010 if unknown."""
    key = value.strip().lower()
    code = LANGUAGE_NAMES.get(key, key)
    if code not in M2M100_CODES:
        raise invalid_input(f"unsupported {field} '{value}'")
    return code


def run_translation(call: Call) -> Result:
    """m2m100-1.2b or indictrans2-en-indic-1B."""
    inputs = call.inputs
    if call.model.variant == "indictrans":
        schema.validate(inputs, INDIC_SCHEMA)
        texts = [inputs["text"]] if isinstance(inputs["text"], str) else inputs["text"]
        target = inputs["target_language"]
        return Json({"translations": [f"[{target}] {t}" for t in texts]})
    schema.validate(inputs, M2M100_SCHEMA)
    language_code(inputs.get("source_lang", "en"), "source_lang")
    target = language_code(inputs["target_lang"], "target_lang")
    return Json({"translated_text": f"[{target}] {inputs['text']}"})
