"""A small English stop-word list for keyword extraction (function words only)."""

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
