"""Source-language detection for `source_lang: auto`, small enough for a Worker's cold start.

m2m100 does not detect languages (it assumes English), so we must, and a wrong guess means a
wrong translation. The strategy, in order:

1. No letters at all (numbers, emoji, punctuation) -> nothing to translate (`NO_TEXT`).
2. The script most of the letters are in. A script only one m2m100 language uses (Hangul,
   Greek, Thai, Georgian, Han without kana, ...) decides alone; Han with any kana is Japanese.
   A script m2m100 has no language for (Telugu, Tibetan, ...) cannot be translated (`None`).
3. Scripts shared by several languages (Latin, Cyrillic, Arabic, Devanagari, Hebrew) are scored
   per language: how many words are frequent words of that language or contain one of its
   distinctive letters (ß, ñ, ў, پ, ...; a letter n languages share counts 1/n). The best
   language is taken when it covers at least 15 % of the words and clearly leads every other
   one: by 2 words, by twice the score, or by having all of its evidence and more (Danish vs
   Norwegian, Czech vs Slovak differ in a few words only).
   Short texts are also scored by everyday words (greetings, thanks, questions, replies).
4. Text of up to 8 words without a clear winner is given its likeliest language, marked
   `guessed`: the best-scoring one if it leads at all, on a tie the script's main language
   (English for Latin) if tied, else the most spoken of the tied (`COMMON`). Menus, buttons,
   greetings and headlines are too short for a clear lead.
   Everything else - longer text with no evidence, or evidence split between languages none
   of which is common - is left undetected, and the caller asks for `source_lang` rather than
   guess.
"""

from __future__ import annotations

import bisect
import unicodedata  # built into the interpreter: no cold-start cost
from dataclasses import dataclass

NO_TEXT = ""  # detect() result when there is nothing to translate

SHORT_TEXT_WORDS = 8
MIN_COVERAGE = 0.15
SAMPLE_CHARS = 4000  # long texts are judged on their beginning


# Why detection found no language.
UNSUPPORTED_SCRIPT = "unsupported_script"  # no m2m100 language is written in it
AMBIGUOUS = "ambiguous"  # evidence for several languages, none clearly ahead
NO_EVIDENCE = "no_evidence"  # too long to guess, (almost) nothing recognised


@dataclass(frozen=True)
class Detection:
    """A detected language, or None with why (`reason`) and the tied `candidates`.

    `guessed`: a short text's likeliest language rather than a clear winner; the other
    languages with evidence are in `candidates`, best first.
    """

    language: str | None
    script: str = ""
    reason: str = ""
    candidates: tuple[str, ...] = ()
    guessed: bool = False


# (first code point, last code point, script), sorted; letters elsewhere count as "other".
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0700, 0x074F, "syriac"),
    (0x0750, 0x077F, "arabic"),
    (0x0780, 0x07BF, "thaana"),
    (0x08A0, 0x08FF, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0A00, 0x0A7F, "gurmukhi"),
    (0x0A80, 0x0AFF, "gujarati"),
    (0x0B00, 0x0B7F, "oriya"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x0C00, 0x0C7F, "telugu"),
    (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"),
    (0x0D80, 0x0DFF, "sinhala"),
    (0x0E00, 0x0E7F, "thai"),
    (0x0E80, 0x0EFF, "lao"),
    (0x0F00, 0x0FFF, "tibetan"),
    (0x1000, 0x109F, "myanmar"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1200, 0x139F, "ethiopic"),
    (0x13A0, 0x13FF, "cherokee"),
    (0x1780, 0x17FF, "khmer"),
    (0x1800, 0x18AF, "mongolian"),
    (0x1C90, 0x1CBF, "georgian"),
    (0x1E00, 0x1EFF, "latin"),
    (0x1F00, 0x1FFF, "greek"),
    (0x3040, 0x309F, "kana"),
    (0x30A0, 0x30FF, "kana"),
    (0x3100, 0x312F, "bopomofo"),
    (0x3130, 0x318F, "hangul"),
    (0x31F0, 0x31FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xA960, 0xA97F, "hangul"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB1D, 0xFB4F, "hebrew"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0xFF66, 0xFF9F, "kana"),
    (0x20000, 0x3FFFF, "han"),
)
_STARTS = tuple(r[0] for r in _RANGES)

# Scripts only one m2m100 language is written in (for m2m100's purposes).
_SINGLE: dict[str, str] = {
    "greek": "el",
    "armenian": "hy",
    "bengali": "bn",
    "gurmukhi": "pa",
    "gujarati": "gu",
    "oriya": "or",
    "tamil": "ta",
    "kannada": "kn",
    "malayalam": "ml",
    "sinhala": "si",
    "thai": "th",
    "lao": "lo",
    "myanmar": "my",
    "georgian": "ka",
    "hangul": "ko",
    "ethiopic": "am",
    "khmer": "km",
    "mongolian": "mn",
    "han": "zh",
    "bopomofo": "zh",
}

# Shared scripts: the language assumed for short text without evidence.
_DEFAULT = {"latin": "en", "cyrillic": "ru", "arabic": "ar", "devanagari": "hi", "hebrew": "he"}

# The 20 most spoken languages m2m100 translates (Ethnologue, total speakers), most spoken
# first: a short text that fits several equally is taken for the most spoken of them.
COMMON = (
    "en", "zh", "hi", "es", "ar", "fr", "bn", "pt", "ru", "id",
    "ur", "de", "ja", "mr", "vi", "ha", "tr", "sw", "tl", "ta",
)  # fmt: skip


def _profile(words: str, letters: str = "") -> tuple[frozenset[str], frozenset[str]]:
    return frozenset(words.split()), frozenset(letters)


# language -> (frequent words, distinctive letters), per shared script.
_PROFILES: dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]] = {
    "latin": {
        "en": _profile(
            "the of and to a in is it you that he was for on are with as i his they be at one "
            "have this from or had by but not what all were we when your can said there an "
            "which do their if will how about up out them then she many some so these would "
            "into has more her two like him see could no my than been who its did get may "
            "our me should your yes hello thanks please new"
        ),
        "fr": _profile(
            "le la les de des du un une et est en que qui dans pour pas sur au aux ce cette "
            "il elle ils nous vous je avec plus par sont mais ou son sa ses été être avoir fait "
            "bonjour merci oui très aussi comme leur tout",
            "œèêëùûîïç",
        ),
        "de": _profile(
            "der die das und ist nicht ein eine einen dem den des zu mit sich auf für von "
            "im ich sie es wir ihr auch als wie aber wird werden sind war hat haben oder "
            "nach bei noch nur kann dass über hallo danke ja nein",
            "ßäöü",
        ),
        "es": _profile(
            "el la los las de del y en que un una es por con para no se lo al como más pero "
            "sus su le ha este esta muy también fue ser hola gracias sí yo mi tu usted está son",
            "ñ",
        ),
        "pt": _profile(
            "o os a as de do da dos das e em um uma que é não com para por se na no nas nos "
            "ao mais como mas foi ser seu sua também muito olá obrigado sim você está são "
            "isso ele ela",
            "ãõ",
        ),
        "it": _profile(
            "l' d' c' il lo la gli le di del della dei delle e è in che un una per non con sono si "
            "al alla ma come anche più questo questa ciao grazie sì io lei nel degli essere "
            "molto",
        ),
        "nl": _profile(
            "de het een en van is in dat op te zijn niet met voor die aan er maar ook als "
            "bij dit wordt worden nog naar ik je we hij zij wat hallo dank ja nee",
            "ĳ",
        ),
        "pl": _profile(
            "i w nie na się z do to że jest jak o co ale po tak od za przez jego tylko być "
            "był jestem dla czy już bardzo dzień dobry dziękuję tak",
            "ąęłńśźżć",
        ),
        "cs": _profile(
            "a je v se na že to s z do jako ale o pro by jsem jsou není také jeho když "
            "už nebo bylo jak ve ze děkuji ahoj dobrý",
            "ěřů",
        ),
        "sk": _profile(
            "a je v sa na že to s z do ako ale o pre by som sú nie tiež jeho keď už alebo "
            "bolo ako vo zo ďakujem ahoj dobrý",
            "ľĺŕäô",
        ),
        "ro": _profile(
            "și în de la cu nu că pe o un a se va este sunt pentru care mai din ce să fost sau "
            "dar ca al ai ale lui iar bună mulțumesc",
            "ășțşţîâ",
        ),
        "hu": _profile(
            "a az és hogy nem is egy van volt meg de csak ez azt mint már még kell lesz "
            "vagy én te ő mi ti ők szia köszönöm igen",
            "őű",
        ),
        "tr": _profile(
            "ve bir bu da de için ile çok ne o ben sen biz siz daha gibi olarak var yok "
            "ama değil kadar sonra merhaba teşekkürler evet hayır",
            "ığş",
        ),
        "sv": _profile(
            "och i att det som en på är av för med till den har inte om ett han hon men var "
            "jag du vi de sig från eller kan också hej tack ja nej",
            "åäö",
        ),
        "da": _profile(
            "og i at det som en på er af for med til den har ikke om et han hun men var "
            "jeg du vi de sig fra eller kan også mig dig efter noget mere hvad nu hej tak",
            "æøå",
        ),
        "no": _profile(
            "og i at det som en på er av for med til den har ikke om et han hun men var "
            "jeg du vi de seg fra eller kan også meg deg etter noe mer hva nå hei takk",
            "æøå",
        ),
        "fi": _profile(
            "ja on ei se että oli hän ovat kun mutta myös tai jos niin kuin mitä joka "
            "ole olen olla tämä nämä hyvä hyvin erittäin minä sinä vain nyt sitten kanssa "
            "mukaan kiitos kyllä moi hei",
            "äö",
        ),
        "et": _profile(
            "ja on ei see et oli ta nad kui aga ka või kas nii kui mis mida olen see need "
            "väga ma sa ta täna kõik veel oma pole hea aitäh tere jah",
            "õäöü",
        ),
        "lt": _profile(
            "ir yra kad ne su į iš tai kaip bet jis ji buvo per apie ar taip aš labai mano "
            "nėra šiandien labas ačiū",
            "ąčęėįšųūž",
        ),
        "lv": _profile(
            "un ir ka ne ar uz no tas kā bet viņš viņa bija par vai jā labdien paldies",
            "āčēģīķļņšūž",
        ),
        "hr": _profile(
            "i je u se na da za od su sa što kao ali to nije bio biti ili jer ga ima "
            "vrlo jako sam nisam smo danas ovo ovaj hvala bok dobar",
            "đćč",
        ),
        "sl": _profile(
            "in je v se na da za od so s ki kot ali to ni bil biti ali ker ga ima hvala živjo",
            "čšž",
        ),
        "sq": _profile(
            "dhe në të një është për me nga që se në janë nuk ka por si do ky kjo "
            "faleminderit përshëndetje po jo",
            "ëç",
        ),
        "id": _profile(
            "yang dan di ini itu dengan untuk tidak dari dalam akan pada juga ke karena "
            "ada saya kami kita mereka adalah bisa sudah terima kasih halo",
        ),
        "tl": _profile(
            "ang ng sa mga na at ay si ni hindi ako ikaw siya kami tayo sila ito iyan para "
            "kung salamat po oo",
        ),
        "vi": _profile(
            "và của là có không được những trong một cho người này các với đã để khi chào cảm ơn",
            # đ, ơ, ư and the letters with tone marks (ạ ả ấ ... ỹ), nearly all Vietnamese-only.
            "đơư" + "".join(chr(point) for point in range(0x1EA1, 0x1EFA, 2)),
        ),
        "ca": _profile(
            "l' d' s' n' el la els les de del i a en que un una és per no amb es al com més però "
            "seu seva també molt hola gràcies sí",
            "ŀ",
        ),
        "af": _profile(
            "die en van is in dat nie te het vir op met ek jy hy sy ons hulle was sal "
            "baie dankie goeie",
        ),
        "sw": _profile(
            "na ya wa kwa ni la za katika hii yake kuwa au pia lakini hiyo sana habari "
            "asante ndiyo hapana",
        ),
        "cy": _profile(
            "y yr a ac yn i o ar mae wedi ei eu bod hyn gyda am fel ond roedd diolch",
            "ŵŷ",
        ),
        "ga": _profile(
            "an na agus ar ag le go i sé sí bhí ach ní níl tá atá mé tú inniu bhfuil sin seo "
            "dia duit",
        ),
        "is": _profile(
            "og að í á er sem til við það ekki með um var hann hún en þetta takk",
            "ðþ",
        ),
        "az": _profile(
            "və bir bu da də üçün ilə çox nə o mən sən biz daha kimi olaraq var yox "
            "amma deyil salam təşəkkür",
            "ə",
        ),
        "ha": _profile(
            "da ya ta na ba a su ka ki ne ce shi ita ni mu ku za yana tana suna an",
            "ɓɗƙƴ",
        ),
        "yo": _profile(
            "ni ti àti ó wọn kò sí fún ṣe jẹ́ rẹ̀ mi o pé",
            "ṣ",
        ),
    },
    "cyrillic": {
        "ru": _profile(
            "и в не на что он я с как это по но из у за от же так все его только был она "
            "мы вы они было для бы уже или когда привет спасибо да нет",
            "ыэё",
        ),
        "uk": _profile(
            "і та не на що він я з як це по але від у за до так все його тільки був вона "
            "ми ви вони й для вже або коли привіт дякую так ні",
            "їєґ",
        ),
        "be": _profile(
            "і не на што ён я з як гэта па але ад у за да так усе яго толькі быў яна мы "
            "вы яны дзякуй",
            "ў",
        ),
        "bg": _profile(
            "и в не на че той аз с как това по но от за да се са е ще със който която "
            "които беше благодаря здравей",
            "ъ",
        ),
        "sr": _profile(
            "и у не на да је се за од са што као али то није био бити или јер хвала",
            "ђћџ",
        ),
        "mk": _profile(
            "и во не на дека тој јас со како ова по но од за да се е ќе што беше благодарам",
            "ѓќѕ",
        ),
        "kk": _profile("және мен бұл да де жоқ бар үшін деп бір ол сәлем рахмет", "әғқңұһ"),
        "mn": _profile("нь бол юм энэ ба байна гэж байгаа болон сайн баярлалаа", "өү"),
        "ba": _profile("һәм менән был да ла юҡ бар өсөн тип бер ул рәхмәт", "ҙҫҡ"),
    },
    "arabic": {
        "ar": _profile(
            "في من على إلى أن هذا هذه التي الذي عن مع كان ما لا هو هي كل قد ذلك مرحبا شكرا",
            "ةىأإ",
        ),
        "fa": _profile(
            "و در به از که این را با است برای آن یک می شود بود هم تا نیز سلام ممنون",
            "",
        ),
        "ur": _profile(
            "کے میں ہے کی اور سے کو نے یہ ہیں کا پر تھا گیا شکریہ",
            "ٹڈڑںےۓ",
        ),
        "ps": _profile("د او په چې دا له سره هم یو کې ته وو مننه", "ټډړږښځڅڼۍې"),
        "sd": _profile("۽ جو جي کي ۾ ته هن آهي هو سان مهرباني", "ڀٻڄڃڇڊڌڍڏڙڦڪڳڱڻ"),
    },
    "devanagari": {
        "hi": _profile("है के में की और का को से यह हैं पर था नहीं भी लिए नमस्ते धन्यवाद"),
        "mr": _profile("आहे आणि या ला त्या हे ते आहेत होते नाही पण मी धन्यवाद", "ळ"),
        "ne": _profile("छ र मा हो यो गर्न भएको छन् पनि हुन्छ थियो छैन धन्यवाद"),
    },
    "hebrew": {
        "he": _profile("של את על זה לא הוא היא עם כי גם אני יש מה או שלום תודה"),
        "yi": _profile("איז און די דער דאָס פֿון מיט נישט ניט אַ צו ער זי", "ײװױ\u05b7\u05b8"),
    },
}

# Everyday words of short texts - greetings, courtesy, questions, replies, common verbs and
# nouns - which often carry none of the function words above. Mostly for the 20 most spoken
# languages m2m100 translates (`COMMON`); tests/data/short_texts.tsv measures the result.
_EVERYDAY: dict[str, str] = {
    "en": "i' hi hey bye goodbye morning evening night afternoon thank thanks welcome sorry "
    "excuse fine good great don let what nice meet birthday happy merry christmas love where "
    "go know call tomorrow today time take care luck lot much very back "
    "problem okay ok bathroom see later soon day name help "
    "yes please wait open close need want get got come coming going help thing tonight again "
    "here there now just really right sure job moment who why when which phone home work "
    "coffee tea water food money friend",
    "es": "hola buenos buenas días dia noches tardes gracias muchas mucho gusto adiós "
    "luego hasta mañana cómo estás qué tal cuánto cuesta dónde baño siento nada quiero "
    "feliz cumpleaños bienvenido bienvenidos entiendo provecho vamos playa estoy cansado "
    "claro perdón ayudas hora bien buen señor señora amigo también porque pues ahora "
    "aquí tengo tiene hay nos vemos "
    "me te se le mi tu su nos puedes puede quiero necesito tengo voy vienes viene esta este "
    "eso esto muy mucho poco algo nadie siempre nunca todavía ya hoy ayer noche día semana "
    "casa trabajo agua café dinero amigo amiga hablas habla sé pasa hace calor frío prisa "
    "felicidades ayudar ayuda puerta cabeza momento espera",
    "fr": "bonjour bonsoir salut merci beaucoup comment ça va revoir bientôt bonne nuit "
    "enchanté enchantée aime excusez moi toi joyeux anniversaire où toilettes sais bon "
    "appétit rien plaît journée quelle heure désolé désolée demain marche bienvenue chez "
    "combien problème suis ai voilà oui non madame monsieur "
    "j' qu' c' n' s' m' t' l' d' tu te me se il elle on est c'est pas peux peut veux voudrais "
    "viens vient arrive attends attendez ouvre ferme très trop cher soir matin ce cette ces "
    "mon ma mes ton ta tes aujourd'hui hier encore déjà ici là comprends parle parlez anglais "
    "français aider aide tête porte café chaud froid félicitations accord plus week",
    "pt": "olá oi bom boa dia tarde noite obrigado obrigada muito tudo bem vai logo até "
    "amanhã tchau desculpa desculpe licença eu te amo feliz aniversário onde fica "
    "banheiro sei prazer conhecê vindo quanto custa horas estou fome vamos "
    "embora beleza parabéns saudades você vocês também agora aqui tenho "
    "me te se lhe meu minha seu sua pode posso quero preciso tenho vou vem está estou esse "
    "essa isso este esta muito pouco hoje ontem noite dia semana casa trabalho água café "
    "dinheiro amigo amiga fala falo entendi entendo caro calor frio ajudar ajuda porta cabeça "
    "dor lindo linda fim tranquilo pouco espera",
    "de": "hallo guten gute morgen tag abend nacht danke vielen dank schön wie "
    "geht tschüss wiedersehen bis später entschuldigung liebe dich alles gute zum "
    "geburtstag wo toilette weiß bitte herzlich willkommen viel kostet spät hunger kein "
    "keine problem frohe weihnachten servus welt tschüs mir dir gut sehr heute "
    "du er wir ihr mir mich dich uns kannst kann möchte will muss bin bist ist sind hast habe "
    "mach machen komm kommst kommt warte kurz mal doch schon noch nicht heiß kalt teuer "
    "billig heute morgen abend wochenende tür kaffee wasser geld freund verstehe sprechen "
    "englisch deutsch helfen hilfe glückwunsch herzlichen klar unterwegs kopfschmerzen",
    "id": "halo selamat pagi siang sore malam terima kasih banyak apa kabar sampai jumpa "
    "maaf permisi cinta kamu ulang tahun mana toilet tahu datang berapa "
    "harganya harga sama apa hati jam sekarang lapar ayo pergi jalan senang bertemu "
    "denganmu besok baik mau pulang aku tolong ya tidak belum sudah "
    "aku kamu dia kita kami mereka ini itu bisa boleh mau ingin perlu sedang akan sudah belum "
    "lagi juga saja sekali sangat hari malam nanti besok kemarin rumah kerja air kopi teh "
    "uang teman buka tutup tunggu sebentar mengerti bahasa inggris panas dingin mahal murah "
    "bantu pintu kepala pusing siapa apa kenapa bagaimana oke selamat akhir pekan",
    "vi": "xin chào chúc buổi sáng ngủ ngon cảm ơn rất nhiều bạn khỏe tạm biệt hẹn gặp "
    "lại lỗi anh em yêu mừng sinh nhật nhà vệ ở đâu tôi biết gì bao nhiêu tiền mấy giờ "
    "rồi đói quá đi thôi sao vui năm mới mai vâng dạ ăn cơm chưa "
    "tôi bạn anh chị em nó chúng ta họ được không có là của và với này đó rồi đang sẽ đã hôm "
    "nay mai tối sáng nhà cửa mở đóng đợi chút một ai gì đâu nào tiếng nói hiểu giúp đau đầu "
    "nóng lạnh đắt rẻ cà phê trà nước tiền cuối tuần",
    "ha": "sannu ina kwana barka da safiya yamma na gode sosai yaya kake kike lafiya lau "
    "sai anjima gobe yi hakuri son zuwa yake take ban sani ba nawa ne ce karfe jin "
    "yunwa mu tafi babu matsala sallah jima aiki gida madalla dare wannan akwai kuma "
    "amma don domin daga cikin yau yanzu gaskiya "
    "ina kana kina yana tana muna suna za zan zai zata mun kun sun ka ki shi ita mu ku su "
    "wannan wancan nan can yau gobe jiya dare rana gida aiki ruwa shayi kudi aboki abokina "
    "hanya kofa bude rufe jira kadan taimaka min mini gane tsada murna zafi sanyi allah kai "
    "ne shikenan wanene me menene ina",
    "tr": "merhaba selam günaydın iyi akşamlar geceler günler teşekkürler teşekkür "
    "ederim sağol sağ ol nasılsın görüşürüz hoşça kal özür dilerim seni seviyorum "
    "doğum günün kutlu olsun tuvalet nerede bilmiyorum rica hoş geldiniz geldin kaç "
    "saat acıktım hadi gidelim sorun memnun oldum yarın afiyet kolay gelsin lütfen "
    "tamam "
    "ben sen o biz siz onlar bu şu bir ne kim neden nasıl nerede var yok evet hayır tamam çok "
    "biraz daha bugün yarın dün akşam sabah gece ev iş su kahve çay para arkadaş kapı aç "
    "kapat bekle istiyorum biliyor musun misin anlamadım anlıyorum sıcak soğuk pahalı ucuz "
    "yardım başım ağrıyor tebrikler yoldayım hafta sonları",
    "sw": "habari jambo hujambo sijambo asubuhi asante sana kwaheri tutaonana baadaye "
    "samahani nakupenda heri siku kuzaliwa choo kiko wapi sijui karibu bei gani saa "
    "ngapi nina njaa twende hakuna matata usiku mwema nimefurahi kukuona tuonane kesho "
    "pole mambo poa rafiki "
    "mimi wewe yeye sisi nyinyi wao huyu huyo hii hiyo hapa pale leo jana kesho sasa bado tu "
    "tena kila wote nini nani lini vipi gani kwa nini kuna kitu watu mtu nzuri mbaya kubwa "
    "ndogo kidogo zaidi maji chakula chai kahawa nyumba kazi pesa rafiki mama baba mtoto sawa "
    "tafadhali naomba nataka sitaki unaweza ninaweza niko uko yuko njia mlango fungua funga "
    "subiri joto baridi ghali rahisi hongera sielewi ninaelewa kiingereza kiswahili wikendi "
    "njema kichwa",
    "tl": "kumusta kamusta magandang umaga gabi hapon tanghali maraming paalam ingat "
    "pasensya mahal kita maligayang kaarawan nasaan banyo alam walang anuman pagdating "
    "magkano anong oras gutom tara problema ikinagagalak kitang makilala bukas naman "
    "kain tayo ka ko na "
    "ako ikaw ka siya kami tayo kayo sila ito iyan iyon ano sino saan kailan bakit paano oo "
    "hindi po opo na pa lang din rin naman ba mo ko niya natin namin ngayon bukas kahapon "
    "mamaya gabi umaga bahay trabaho tubig kape pera kaibigan pinto buksan isara sandali "
    "gusto ayaw kailangan pwede puwede maintindihan marunong mainit malamig mahal mura "
    "tulungan tulong ulo masakit sige ingat pangalan binabati pupunta papunta",
    "it": "ciao buongiorno buonasera buonanotte grazie prego scusi scusa arrivederci "
    "come stai bene dove quanto costa",
    "nl": "hoi goedemorgen goedenavond bedankt alsjeblieft tot ziens dag",
    "ru": "до здравствуйте доброе добрый утро вечер спокойной ночи спасибо большое дела "
    "пока свидания извините тебя люблю днём рождения где туалет знаю пожалуйста "
    "приятно познакомиться сколько стоит который час всё хорошо добро пожаловать "
    "новым годом ничего страшного завтра давай пойдём устал "
    "я ты он она мы вы они это что кто где когда почему как да нет не уже ещё очень сегодня "
    "завтра вчера дом работа вода кофе чай деньги друг дверь открой подожди немного понимаю "
    "говорите дорого жарко холодно помогите хочу иду",
    "ar": "مرحبا السلام عليكم صباح مساء الخير شكرا جزيلا كيف حالك مع السلامة أنا بخير تصبح "
    "أهلا وسهلا عيد ميلاد سعيد أين الحمام أعرف آسف فضلك أحبك اللقاء اسمك كم السعر "
    "عفوا رمضان كريم الحمد لله نعم "
    "أنا أنت هو هي نحن هم هذا هذه ما من متى أين لماذا كيف نعم لا في على إلى اليوم غدا أمس بيت "
    "عمل ماء قهوة شاي مال صديق الباب افتح انتظر قليلا أفهم تتكلم غالي حار مساعدة أريد مشغول",
    "ur": "السلام علیکم آپ کیسے کیسی ہیں ہوں شکریہ بہت صبح شب بخیر میں ٹھیک خدا حافظ کا "
    "نام کیا معاف کیجیے مجھے نہیں معلوم سالگرہ مبارک تم پیار خوش آمدید کہاں یہ کتنے "
    "کوئی بات چلو چلیں اچھا بھوک لگی جی ہاں عید پھر ملیں گے کل ملتے حال "
    "میں تم آپ وہ ہم یہ کیا کون کب کہاں کیوں کیسے ہے ہیں تھا تھی ہو گا گی گے نہیں ہاں جی اور "
    "کے کی کا کو سے پر میرا میری تمہارا آپکا آج کل رات دن گھر کام پانی چائے پیسے دوست دروازہ "
    "کھولو بند انتظار تھوڑا مدد چاہیے سمجھ گرمی مہنگا فون گیا سب مبارک",
    "hi": "नमस्ते आप कैसे हैं धन्यवाद शुभ रात्रि सुप्रभात मैं ठीक हूँ हूं आपका नाम क्या "
    "फिर मिलेंगे माफ़ कीजिए मुझे पता जन्मदिन मुबारक हो बहुत शुक्रिया हाल तुमसे प्यार "
    "करता कोई बात स्वागत शौचालय कहाँ कितने चलो चलते अच्छा भूख लगी हाँ जी कल मिलते "
    "मैं तुम आप वह हम यह क्या कौन कब कहाँ क्यों कैसे है हैं था थी हो गा गी गे नहीं हाँ जी और "
    "के की का को से पर मेरा मेरी तुम्हारा आज कल रात दिन घर काम पानी चाय पैसे दोस्त दरवाज़ा "
    "खोलो बंद रुको थोड़ा मदद चाहिए समझ गर्मी महंगा फ़ोन गया सब बधाई",
    "mr": "नमस्कार तुम्ही कसे कसा कशी आहात आहेस मी बरा बरी तुमचं तुमचे नाव काय पुन्हा "
    "भेटू भेटूया माफ करा मला माहित वाढदिवसाच्या हार्दिक शुभेच्छा माझं तुझ्यावर प्रेम "
    "स्वागत कुठे किती चला जाऊया खूप छान भूक लागली उद्या ना चाललंय आभार रात्री सकाळ "
    "मी तू तुम्ही आम्ही ते ती हे काय कोण कधी कुठे का कसं आहे आहेत होता होती नाही हो आणि मला "
    "तुला त्याला आम्हाला तुम्हाला माझा माझी माझे तुझा तुझी आज उद्या काल रात्र दिवस घर काम "
    "पाणी चहा पैसे मित्र दार उघड बंद थांब थोडं मदत हवा हवी हवे समजलं समजले उकाडा महाग फोन "
    "हरवला सगळं सगळे अभिनंदन येतोय येते येणार जातो भेटून आनंद झाला",
}


def _with_everyday(profiles: dict) -> dict:
    return {
        script: {
            language: (frequent | frozenset(_EVERYDAY.get(language, "").split()), letters)
            for language, (frequent, letters) in languages.items()
        }
        for script, languages in profiles.items()
    }


_PROFILES = _with_everyday(_PROFILES)


def _script(char: str) -> str:
    point = ord(char)
    index = bisect.bisect_right(_STARTS, point) - 1
    if index >= 0 and point <= _RANGES[index][1]:
        return _RANGES[index][2]
    return "other"


_ELIDED = frozenset({"c", "d", "j", "l", "m", "n", "qu", "s", "t", "i"})


def _words(text: str) -> list[str]:
    """Lower-case words: runs of letters and marks (vowel signs, niqqud); apostrophes split
    them, but an elided word keeps its apostrophe (French "j'", "qu'", English "i'")."""
    words: list[str] = []
    current: list[str] = []
    for char in text.lower().replace("i\u0307", "i"):  # "İ".lower() is "i" + a dot above
        if char.isalpha() or (current and unicodedata.category(char)[0] == "M"):
            current.append(char)
        elif current:
            word = "".join(current)
            words.append(word + "'" if char in "'’" and word in _ELIDED else word)
            current = []
    if current:
        words.append("".join(current))
    return words


def _rarity(profiles: dict) -> dict[str, float]:
    # A distinctive letter shared by n languages of the script is worth 1/n word to each.
    users: dict[str, int] = {}
    for _frequent, letters in profiles.values():
        for letter in letters:
            users[letter] = users.get(letter, 0) + 1
    return {letter: 1 / count for letter, count in users.items()}


_RARITY = {script: _rarity(profiles) for script, profiles in _PROFILES.items()}


def _evidence(words: list[str], script: str) -> dict[str, dict[int, float]]:
    """Per language: index of each word that speaks for it -> how strongly (at most 1)."""
    rarity = _RARITY[script]
    found: dict[str, dict[int, float]] = {}
    for language, (frequent, letters) in _PROFILES[script].items():
        hits: dict[int, float] = {}
        for index, word in enumerate(words):
            if word in frequent:
                hits[index] = 1.0
            elif letters and not letters.isdisjoint(word):
                hits[index] = max(rarity[letter] for letter in letters.intersection(word))
        found[language] = hits
    return found


def _leads(best: dict[int, float], other: dict[int, float]) -> bool:
    """Whether `best` clearly beats `other`: by 2 words, twice the score, or by having every
    word `other` has and more."""
    mine, theirs = sum(best.values()), sum(other.values())
    if mine - theirs >= 2 or mine >= 2 * theirs:
        return True
    return other.keys() < best.keys() and all(other[i] <= best[i] for i in other)


def detect(text: str) -> Detection:
    """The language of `text` per the strategy in this module's docstring."""
    sample = text[:SAMPLE_CHARS]
    counts: dict[str, int] = {}
    for char in sample:
        if char.isalpha():
            script = _script(char)
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return Detection(NO_TEXT)
    if "kana" in counts and counts.get("kana", 0) + counts.get("han", 0) >= max(counts.values()):
        return Detection("ja", "kana")
    script = max(counts, key=lambda name: counts[name])
    if script in _SINGLE:
        return Detection(_SINGLE[script], script)
    if script not in _PROFILES:
        return Detection(None, script, UNSUPPORTED_SCRIPT)
    words = [w for w in _words(sample) if any(_script(c) == script for c in w)]
    evidence = _evidence(words, script)
    scores = {language: sum(hits.values()) for language, hits in evidence.items()}
    ranked = sorted(scores, key=lambda name: -scores[name])
    best = scores[ranked[0]]
    rivals = [name for name in ranked[1:] if not _leads(evidence[ranked[0]], evidence[name])]
    covered = best > 0 and best >= MIN_COVERAGE * len(words)
    if covered and not rivals:
        return Detection(ranked[0], script)
    if len(words) <= SHORT_TEXT_WORDS:
        likeliest = _likeliest(scores, _DEFAULT[script])
        if likeliest:
            others = tuple(name for name in ranked if name != likeliest and scores[name] > 0)
            return Detection(likeliest, script, candidates=others, guessed=True)
    if not covered:
        return Detection(None, script, NO_EVIDENCE)
    return Detection(None, script, AMBIGUOUS, (ranked[0], *rivals))


def _likeliest(scores: dict[str, float], default: str) -> str | None:
    """A short text's language when no language clearly leads: the best-scoring one if it
    leads at all; on a tie the script's main language, else the most spoken one tied.
    Menus, buttons and greetings are too short for a clear lead, and most short Latin UI text
    on the web is English; close minor languages (Danish/Norwegian) stay undecided."""
    best = max(scores.values())
    tied = [name for name, score in scores.items() if score == best]
    if len(tied) == 1:
        return tied[0]
    return next((name for name in (default, *COMMON) if name in tied), None)
