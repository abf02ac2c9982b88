"""Small stop-word lists for keyword extraction, by language (function words only: articles,
pronouns, prepositions, conjunctions, auxiliaries). Accents are kept as written; the tokenizer
lower-cases before it looks words up."""

_WORDS = """
    a about above after again against all almost also although am among an and another any
    are around as at be because been before being below between both but by can cannot could
    did do does doing done down during each either else enough etc even ever every few for
    from further get gets had has have having he her here hers herself him himself his how
    however i if in into is it its itself just least less let like made many may me might
    mine more most much must my myself neither never no nor not now of off often on once one
    only or other others otherwise our ours ourselves out over own per perhaps quite rather
    really same shall she should since so some such than that the their theirs them
    themselves then there therefore these they this those though through thus to too under
    until up upon us very via was we well were what whatever when where whether which while
    who whom whose why will with within without would yet you your yours yourself yourselves
"""
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(_WORDS.split())

_FRENCH = """
    a afin ai aie aient ainsi alors au aucun aussi autre aux avaient avais avait avant avec
    avez avons avoir c ce ceci cela celle celles celui cependant ces cet cette ceux chaque
    chez comme comment d dans de des donc dont du elle elles en encore entre est et etaient
    etait ete etre eu eux fait il ils j je l la le les leur leurs lors lui m ma mais me meme
    mes moi mon n ne ni nos notre nous on ont ou où par parce pas pendant peu peut plus pour
    pourquoi qu quand que quel quelle quels qui s sa sans se selon ses si son sont sous sur
    t ta te tes toi ton tous tout toute toutes tres très tu un une vers vos votre vous y à
    ça étaient était été être
"""
_GERMAN = """
    aber alle allem allen aller alles als also am an andere anderen auch auf aus bei beim
    bin bis bist da damit dann das dass dein deine dem den denn der des dich die dies diese
    diesem diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines er
    es etwa euch euer für gegen gewesen hab habe haben hat hatte hatten hier hin hinter ich
    ihm ihn ihnen ihr ihre im in ist ja jede jedem jeden jeder jedes jetzt kann kein keine
    können könnte man mein meine mich mir mit muss nach nicht nichts noch nun nur ob oder
    ohne sehr sein seine sich sie sind so soll sollte sondern um und uns unser unter viel
    vom von vor war waren warum was weil welche wenn wer werden wie wieder wir wird wo wurde
    wurden zu zum zur über
"""
_SPANISH = """
    a al algo algunos ante antes como con contra cual cuando de del desde donde durante e el
    ella ellas ellos en entre era eran es esa esas ese eso esos esta estaba estado estan
    estar este esto estos fue fueron ha haber habia han hasta hay la las le les lo los mas
    me mi mis mucho muy más nada ni no nos nosotros o otra otras otro otros para pero poco
    por porque que quien se sea ser si sido sin sobre son su sus también tambien te tiene
    tienen todo todos tu tus un una uno unos y ya yo él está están
"""
# The languages ``vectorizer={"stop_words": ...}`` names.
STOP_WORDS: dict[str, frozenset[str]] = {
    "english": ENGLISH_STOP_WORDS,
    "french": frozenset(_FRENCH.split()),
    "german": frozenset(_GERMAN.split()),
    "spanish": frozenset(_SPANISH.split()),
}
