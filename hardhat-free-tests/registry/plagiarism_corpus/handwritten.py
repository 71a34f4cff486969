"""Hand-written passages (written for this test set): same genre as the generated chapters, unrelated text."""

ENGLISH = [
    """The lighthouse keeper of Greywater had not spoken to anyone in eleven days, and he had begun to
enjoy it. He trimmed the wick at six, wound the clockwork at nine, and in between he read the same
battered almanac he had read the winter before. On the twelfth morning a boat came in out of the fog
with no one at the oars. It knocked against the jetty like a dog asking to be let in.

He stood over it for a long time. There was a coat folded on the thwart, dry despite the weather, and
on the coat a brass key no longer than his thumb. He did not pick it up. He went back up the tower,
wound the clockwork early, and watched the boat from the gallery until the tide took it away again.""",
    """Merrick's mother had been a cartographer, which meant that the house was full of places that did
not exist. Islands drawn and then scraped off the vellum, rivers that turned back on themselves, a
whole mountain range in the margin of a tax roll. When the surveyors from the crown came to take her
instruments, they left the failed maps behind, thinking them worthless.

He was nine. He spread them across the kitchen floor and tried to fit them together like a puzzle,
and on the fourth night they fitted. The coastline of one met the river of another; the scraped island
sat exactly in the lake of a third. He traced the road with his finger and found that it ended at their
own front door.""",
    """Nobody in the guild liked the apprentice from the salt towns. She ate standing up, she laughed at
the wrong moments, and she had a way of asking why that made old masters reach for their pipes. When
the great furnace cracked during the spring firing, it was she who climbed inside it while it was
still warm, a wet sack over her head, to look at the seam.

"It is not the clay," she told them when she came out, blistered and grinning. "Somebody cut it."
The masters looked at one another. In forty years nobody had thought to check, because nobody had
thought that anyone in the guild would want the furnace to fail.""",
    """The war ended on a Tuesday, which seemed wrong to everyone. Wars ought to end at midnight, or at
dawn, with trumpets. This one ended because the two generals met at a ford to argue about fishing
rights and discovered that they had been at school together. By the afternoon the soldiers on both
banks were trading tobacco and complaining about their boots.

Isolde, who had carried dispatches for three years, sat on the bank with her satchel in her lap and
did not know what to do with her hands. Every letter in it was now a letter about nothing. She read
them anyway, one by one, and then she let the river have them.""",
    """There is a bell in the abbey at Hallowmere that rings by itself once a generation. The monks keep
a ledger of it: the date, the weather, the name of the abbot, and a line about what happened next. A
drought. A wedding. A comet. A boy who walked out of the marsh speaking a language nobody knew.

Brother Osric had read the ledger so often that he could recite it, and so when the bell rang in the
middle of vespers he did not look up at the tower like the others. He looked at the door, and waited
to see who would come through it.""",
    """Grandmother kept the dragon's tooth in the bread tin, behind the loaf, because she said thieves
never look where the bread is. It was the size of a carving knife and yellow as old piano keys, and
when the weather was about to turn it hummed, a low sound you felt in your own teeth more than heard.

We children were not allowed to touch it. We touched it anyway, whenever she went to market, daring
each other to hold it longer. I held it longest. I was the one who heard, under the hum, something
that sounded very much like breathing.""",
    """The ferryman at Blackmere charges one copper to cross and two to come back, and he will not
explain why. Travellers grumble and pay. The ones who argue he takes across for free and leaves on the
far bank, politely, and rows home whistling.

Tamsin argued. She was on the far bank by noon, with the reeds hissing around her and no road in
sight, only a line of old stakes leading into the mist. She followed them because there was nothing
else to follow. By evening she understood what the second copper paid for, and by morning she would
have given a great deal more than two.""",
    """In the city of Jadeport it is illegal to sing after dark, a law nobody remembers the reason for.
The watch enforces it lazily, with fines and warnings, and the taverns have learned to hum. On the
night of the eclipse a child in the lower town forgot, or did not care, and sang a nursery song from
her window in a clear high voice.

All across the harbour the lamps went out. Not blown, not broken: they simply stopped, as if
listening. When the song ended they came back one by one, and the old men in the taverns put down
their cups and looked at each other, because now they remembered the reason.""",
]

CHINESE = [
    """老渔夫在寒江边住了四十年，从来没有人见过他撒网。每天清晨，他只是把小船划到江心，
静静地坐着，直到太阳落山才回来。村里的孩子们都说他在等一条会说话的鱼。

有一年冬天，江面结了厚厚的冰。老渔夫仍旧每天走到冰上，坐在原来的位置。第七天早上，
人们发现冰面上多了一行脚印，从江心一直延伸到对岸的竹林里，可是老渔夫却不见了。""",
    """书生赶考的路上经过一座破庙，天色已晚，只好在庙里过夜。半夜里，他听见有人在佛像后面翻书，
一页一页，翻得很慢。他壮着胆子问了一声，翻书的声音便停了。

第二天一早，他在佛像脚下找到一本没有字的书。他本想扔掉，却鬼使神差地带在身边。
到了考场，他打开那本书，上面竟密密麻麻地写满了他从未读过的文章。""",
    """城北有一口古井，井水四季不枯，却没有人敢喝。据说井底住着一位被贬下凡的星官，
每逢月圆之夜，井口就会冒出淡淡的银光。

铁匠的女儿不信这些传说。她在一个月圆之夜提着水桶来到井边，把桶放了下去。
桶提上来的时候，里面没有水，只有一颗还在发烫的星星。""",
]

JAPANESE = [
    """山あいの村に、誰も住んでいない古い宿屋がある。夜になると、なぜか二階の窓にだけ明かりがともる。
村の子どもたちは、そこには旅の途中で亡くなった剣士の幽霊がいるのだと噂していた。
ある雪の晩、道に迷った薬売りの娘がその宿屋の戸をたたいた。中から返事があり、戸は静かに開いた。""",
]
