"""Sentences a site wraps around every article (subscription offers, paywall and ad-blocker
notices, cookie banners, sign-in prompts): two different articles that share only these
are not copies of one story nor reports of one event, so they are left out of what
stories and events compare.

The cues are phrases in the languages monitor reads most; a sentence is dropped only when
it is short (a notice, not a paragraph of reporting that mentions cookies) and carries
one, or, at any length, two different ones (a sign-up form).  The text itself is stored
and matched whole: only the comparison skips them.
"""

from __future__ import annotations

import re

MAX_WORDS = 30  # a longer sentence is reporting, whatever words it uses
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")
_CUES = re.compile(
    r"\b(?:"
    # English
    r"subscri(?:be|bing|ber|bers|ption|ptions)|sign(?:ing)?[ -]?(?:up|in)"
    r"|log(?:ging)?[ -]?(?:in|out)"
    r"|newsletters?|paywall|free trial|ad[ -]?block(?:er|ers|ing)?|disable your ad"
    r"|cookies?(?: policy| settings)?|privacy (?:policy|notice|settings)"
    r"|terms of (?:use|service)|enable javascript|javascript (?:is )?(?:disabled|required)"
    r"|already (?:a|an) (?:subscriber|member)"
    r"|create (?:a|an) (?:free )?account|all rights reserved|continue reading|read more"
    r"|share this (?:article|story)|follow us on|registered users|unlimited access"
    r"|password|e-?mail address|first name|last name|job title|required field"
    # German
    r"|abonn\w*|abo\b|anmelden|registrieren|werbeblocker|adblocker|datenschutz\w*"
    r"|weiterlesen|newsletter\w*"
    # French
    r"|abonne\w*|connectez-vous|se connecter|bloqueur de publicit\w*|inscri(?:vez|ption)\w*"
    r"|lire la suite|tous droits r[ée]serv[ée]s"
    # Spanish, Portuguese, Italian
    r"|suscr[ií]\w*|inicia(?:r)? sesi[óo]n|bloqueador de anuncios|assin(?:e|atura)\w*"
    r"|abbona\w*|accedi|registrati|leggi anche|todos los derechos reservados"
    # Russian, Ukrainian, Polish, Turkish
    r"|подпи\w*|войти|зарегистр\w*|передплат\w*|subskryp\w*|zaloguj\w*|zarejestruj\w*"
    r"|abone\w*|giriş yap\w*|üye ol\w*"
    r")\b",
    re.IGNORECASE,
)


def is_boilerplate(sentence: str) -> bool:
    """A short sentence that carries a site notice's words, or a sentence of any length
    (a sign-up form's fields) that carries two different ones."""
    cues = {found.group().lower() for found in _CUES.finditer(sentence)}
    return len(cues) > 1 or (len(cues) == 1 and len(sentence.split()) <= MAX_WORDS)


def strip(text: str) -> str:
    """The text without its notice sentences (joined by single spaces; offsets are not
    kept: this is for comparing texts, never for showing or matching them)."""
    return " ".join(s for s in _SENTENCES.split(text) if s and not is_boilerplate(s))
