# ruff: noqa: SIM905 -- word lists read best as one string split on whitespace
"""Fantasy vocabulary for the generated chapters (written for this test set).

Every generated chapter draws on the same lists, so unrelated chapters share genre, names and stock
phrases the way two fantasy serials on one platform do: that is what the detector must not flag.
"""

NAMES = """
Aldric Brenna Caius Dariel Elowen Fenwick Garrow Halvard Isolde Jorah Kestrel Lirien Maelis Norrin
Orsolya Perrin Quillon Rhosyn Seren Tamsin Ulric Vesna Wystan Xanthe Yorrick Zaria Alaric Bryony
Corvin Delphine Emrys Faelan Gwendolyn Hollis Ingrid Jessamy Kaelen Liora Merrick Nerys Osric Pell
Rowan Sabine Thorne Una Varek Wren Ysolde Zephyr Ansel Briar Cedric Dagny Eirlys Florian Greer
""".split()

PLACES = """
Ashfall Blackmere Carrow Dunhollow Eldermoor Frostgate Greywater Hallowmere Ironvale Jadeport
Kingsreach Lowmarch Mistwood Northwatch Oakhaven Pellridge Quarrystone Ravenscar Saltmarsh
Thornbury Umberfell Vellmoor Westerling Yarrowdale Brightwater Coldharbour Duskfield Emberlyn
Foxholme Goldcrest Highcairn Larkspur Marrowgate Nettlebed Oldmoor Pinecrest Redhollow Silverbrook
""".split()

NOUNS = """
sword shield lantern tower gate river bridge forest castle throne crown dagger cloak map scroll
letter ring amulet horse wagon tavern fire hearth window door staircase cellar library garden well
mountain valley storm wind rain snow moon star sun shadow mirror candle chain key lock chest coin
banner drum horn bell wall road path ship harbor sail rope anchor cliff cave tunnel spring orchard
meadow field village market inn stable forge anvil hammer bow arrow spear helm gauntlet boot saddle
book page ink quill feather stone crystal spell potion cauldron herb root thorn rose lily oak willow
raven wolf fox owl hawk dragon serpent bear stag boar hound cat mouse spider beetle bone skull ghost
spirit giant dwarf elf witch wizard knight squire queen king prince princess priest monk thief guard
soldier captain sailor merchant farmer hunter smith baker weaver healer bard scholar child elder
stranger brother sister mother father friend enemy traitor oath promise secret prophecy riddle song
""".split()

ADJECTIVES = """
old young ancient silent broken golden silver dark bright cold warm bitter sweet quiet loud narrow wide
hollow heavy light pale crimson emerald grey black white red blue green hidden forgotten cursed sacred
wild gentle fierce weary eager proud humble cruel kind strange familiar distant lonely crowded empty
tall short thin wet dry frozen burning shining dim faint sharp dull rough smooth soft hard rusted
gilded cracked ragged fine simple grand small vast deep shallow steep crooked straight secret open
restless patient foolish wise brave fearful clever careless honest false noble common rare sudden slow
""".split()

VERBS = """
drew grasped lifted lowered opened closed carried dropped hid found lost broke mended sharpened polished
studied read burned buried dug climbed crossed watched followed chased caught released fed guarded
searched entered left locked unlocked touched raised swung threw pulled pushed held tied untied wrapped
painted sketched counted weighed traded sold bought stole returned offered refused accepted blessed
cursed named remembered forgot answered questioned warned thanked greeted ignored trusted doubted
""".split()

INTRANSITIVE = """
laughed wept waited listened slept woke trembled shivered sighed smiled frowned whispered shouted
paused hesitated knelt stood sat ran walked wandered rode sailed prayed sang hummed nodded shrugged
flinched stumbled vanished returned lingered rested fought fled burned glowed faded flickered howled
""".split()

ADVERBS = """
slowly quickly quietly softly carefully suddenly finally gently barely nearly silently boldly sadly
calmly coldly warmly gravely eagerly wearily bitterly fiercely firmly loosely briefly rarely often
""".split()

PREPOSITIONS = "across above below beside behind beyond near toward through under over along past".split()

TIMES = """
at dawn|at dusk|before midnight|after the harvest|in the grey morning|by candlelight|under the new moon|
during the long winter|on the third day|at the turning of the tide|before the bells rang|in the small hours
""".replace("\n", "").split("|")

FEELINGS = "fear hope anger grief joy shame pride dread wonder longing relief doubt".split()

# Stock phrases every fantasy writer reaches for; they recur across unrelated chapters on purpose.
STOCK = """
for the first time in years|at the edge of the forest|as the sun went down|without a word|
in the blink of an eye|once upon a time|for the rest of the night|at the end of the day|
as if nothing had happened|with all his might|with all her might|in the dead of night|
the calm before the storm|a long way from home|as far as the eye could see|in the nick of time|
under the light of the moon|the wind howled through the trees|his heart pounding in his chest|
her heart pounding in her chest|the silence was deafening|a chill ran down his spine|
a chill ran down her spine|they rode through the night|the old man shook his head
""".replace("\n", "").split("|")

EXCLAMATIONS = """
We cannot stay here|Keep your voice down|They are coming for us|I will not go back|Look at the sky|
Tell me the truth|You should not have come|The gate will not hold|Follow me and keep close|
It was never yours to take|Someone has been here before us|Do you hear that|Leave the lantern|
We have until morning|Trust nobody in the city|This is where it began
""".replace("\n", "").split("|")

# Chinese vocabulary for the character-shingle cases.
ZH_NAMES = """
李云 王月 张风 刘雪 陈星 杨柳 赵青 黄河 周远 吴明 孙影 林梦 郑山
何雨 罗天 高岚 梁秋 宋玉
""".split()
ZH_PLACES = """
青云山 落霞城 北境 东海 长安 幽谷 雪原 龙门 南疆 古寺 竹林 寒江
黑森林 白石镇 天湖
""".split()
ZH_NOUNS = """
剑 刀 灯 塔 门 河 桥 林 城 王座 王冠 斗篷 地图 书信 戒指 玉佩 马 车 酒馆 火 窗 楼梯 花园 井 山 谷
风暴 雨 雪 月亮 星辰 太阳 影子 镜子 蜡烛 锁链 钥匙 宝箱 铜钱 旗帜 鼓 钟 墙 路 船 港口 悬崖 山洞
泉水 果园 草原 村庄 集市 客栈 马厩 铁匠铺 弓 箭 长枪 头盔 书 墨 羽毛 石头 水晶 咒语 药水 草药
乌鸦 狼 狐狸 猫头鹰 老鹰 龙 蛇 熊 鹿 野猪 骨头 幽灵 巨人 女巫 法师 骑士 王后 国王 王子 公主
和尚 盗贼 守卫 士兵 船长 商人 农夫 猎人 医者 书生 老人 陌生人 兄弟 姐妹 母亲 父亲 朋友 敌人 秘密 预言
""".split()
ZH_ADJECTIVES = """
古老的 寂静的 破碎的 金色的 银色的 黑暗的 明亮的 寒冷的 温暖的 苦涩的
狭窄的 宽阔的 沉重的 苍白的 遥远的 孤独的 陌生的 神秘的 锋利的 破旧的
""".split()
ZH_VERBS = """
拔出 握住 举起 放下 打开 关上 带着 丢下 藏起 找到 失去 打破 修好
读完 烧掉 埋下 爬上 穿过 看着 跟着 追赶 抓住 放走 守护 寻找
""".split()
ZH_INTRANSITIVE = """
笑了 哭了 等待着 倾听着 睡着了 醒来 颤抖着 叹了口气 微笑 皱起眉头
低声说 大喊 停下 犹豫 跪下 站起来 坐下 奔跑 漫步
""".split()
ZH_TIMES = """
黎明时分 黄昏时 午夜之前 秋收之后 清晨 烛光下 新月之夜 漫长的冬天里
第三天 钟声响起之前
""".split()
