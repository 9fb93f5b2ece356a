"""The word list of the built-in tiny-flux tokenizers: common English scene words.

Words outside it are still tokenized, piece by piece (characters), like a real
SentencePiece/BPE vocabulary does with rare words.
"""

WORDS = """
a an the some several many few two three four five six seven eight nine ten one this that these those
each every all both no other another its his her their our my your
and or but with without in on of at by for from to into onto over under above below behind beside between
near next inside outside around through across along against among toward towards up down off out away
overhead nearby together far close front back top bottom left right middle center side corner edge
is are was be being been has have had it he she they we you i who which while where when there here
not very so too also just only as like than then
photo photograph picture image painting drawing illustration render scene view shot portrait landscape
realistic photorealistic detailed cinematic beautiful serene cozy quiet busy wintry sunny snowy rainy
cloudy foggy misty stormy bright dark dim warm cold hot cool soft hard old new young ancient modern
big small large tiny huge giant tall short long wide narrow thick thin round square flat
red orange yellow green blue purple pink brown black white gray grey golden gold silver colorful
wooden wood metal stone glass leather plastic paper fabric woolen wool cotton silk steel brick marble
man woman boy girl child children kid person people family baby men women friend couple crowd
dog dogs cat cats bird birds seagull seagulls horse horses cow cows goat goats sheep fish duck ducks
rabbit bear lion tiger elephant monkey fox deer owl eagle butterfly insect animal animals
tree trees plant plants flower flowers grass leaf leaves bush forest garden field meadow park
sky cloud clouds sun moon star stars light lights lamp lamps glow shadow fire flame flames smoke
beach sea ocean wave waves sand sandcastle shell shells seashell seashells water river lake pond island
mountain mountains hill hills rock rocks snow ice road street path bridge city town village
house home building buildings church spire tower castle wall walls window windows door doors roof floor
room living kitchen bedroom bathroom office table chair chairs sofa couch armchair bed desk shelf
bookshelf book books bench coffee tea cup mug bottle plate bowl vase clock mirror rug carpet curtain curtains pillow
fireplace fireplaces television computer phone camera picture frame
car cars bus truck bike bicycle boat ship train plane airplane
coat jacket shirt dress hat scarf boots shoes shoe bag briefcase umbrella glasses hair eyes face hand
hands ball toy toys guitar piano
christmas winter summer spring autumn fall night day morning evening sunset sunrise noon midnight
atmosphere breeze wind rain storm weather season
playing flying sitting standing walking running holding wearing carrying reading eating drinking
sleeping looking watching blowing hanging crackling surrounded filled decorated covered lit made
gently slowly quickly softly brightly
accents accent stripes pattern color colors
""".split()
