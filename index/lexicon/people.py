"""Which pronoun a first name usually takes: common given names, written by hand.

Used where a "he" or "she" must be matched to a person: the quote extractor (a "she said" never goes to a man
named just before) and the follow-up rewriter ("How long has she worked there?" after a question naming Trump and
Erika McEntarfer). A name on neither list, or on both, is unknown and decides nothing.
"""

from __future__ import annotations

import unicodedata

FEMALE = frozenset("""
abigail ada adriana agnes aileen aimee alana alejandra alexandra alexis alice alicia alison allison alyssa amanda
amber amelia amy ana anastasia andrea angela angelina anita ann anna anne annie antonia april ariana ashley aubrey
audrey ava barbara beatrice becky belinda bella beth betsy betty beverly bianca brenda bridget brittany brooke
camila candace cara carla carmen carol caroline carolyn casandra cassandra cassidy catherine cathy cecilia celeste
charlotte chelsea cheryl chloe christina christine cindy claire clara claudia colleen connie courtney cristina
crystal cynthia daisy dana danielle daphne darlene dawn debbie deborah debra delcy denise diana diane dolores
donna doris dorothy eileen elaine eleanor elena elisa elise elizabeth ella ellen elsa emily emma erica erika erin
esther eva evelyn faith fatima felicia fiona florence frances francesca gabriela gabrielle gail gemma georgia
gina giorgia gloria grace greta gretchen gwen hailey haley hannah harriet hazel heather heidi helen helena hillary
holly hope ida ilhan ingrid irene iris isabel isabella ivanka jamie jackie jacqueline jade jana jane janet janice
jasmine jean jeanine jeanne jennifer jenny jessica jill jo joan joanna jocelyn jodi josephine joy joyce judith
judy julia julie juliet june justine kaitlyn kamala karen kari karin karine karoline kate katharine katherine
kathleen kathryn kathy katie katrina kay kayla keisha kelly kendra kimberly kirsten krista kristen kristi
kristin kristina kylie laura lauren laurie leah leila lena leslie lily linda lindsay lindsey lisa liz liza lois
lori lorraine louise lucia lucy lydia lynn mackenzie madeleine madeline madison maggie mallory mandy mara marcia
margaret margarita maria mariah marian marie marilyn marina marisa marjorie marsha martha mary maureen maxine
megan meghan melania melanie melinda melissa meredith mia michelle mildred miranda miriam molly monica nadia nancy
naomi natalie natasha nicole nikki nina nora norma olga olivia paige pam pamela patricia patty paula pauline peggy
penelope penny phyllis priscilla rachel rashida rebecca regina renee rhonda rita roberta rosa rosalind rose
rosemary ruth sabrina sally samantha sandra sara sarah savannah selena serena shannon sharon sheila shelby shirley
sierra simone sofia sonia sophia sophie stacey stephanie sue susan susie suzanne sylvia tamara tammy tanya tara
taylor teresa theresa tiffany tina tracy tulsi ursula valerie vanessa vera veronica vicki victoria violet
virginia vivian wanda wendy whitney yolanda yvonne zoe
""".split())
MALE = frozenset("""
aaron adam adrian ahmed alan albert alberto alejandro alex alexander alexei alfred ali allen alvin andre andrew
andy angelo anthony antonio arnold arthur ashton austin barack barry ben benjamin bernard bernie bill billy bob
bobby boris brad bradley brandon brendan brent brett brian bruce bryan byron caleb calvin cameron carl carlos
chad charles charlie chris christian christopher chuck clarence claude clayton clint cody colin connor corey cory
craig curtis dale dan daniel danny darius darren dave david dean dennis derek desmond dick diego dimitri dmitry
dominic don donald doug douglas drew duane dustin dwayne dwight earl ed eddie edgar eduardo edward edwin elijah
elon emmanuel enrique eric erik ernest ethan eugene evan felix fernando francis francisco frank franklin fred
frederick gabriel gary gavin gene george gerald gilbert glenn gordon graham greg gregory guy hakeem hank harold
harry harvey hector henry herbert howard hugh hugo hunter ian ignacio isaac ivan jack jackson jacob jaime jake
james jamie jared jason javier jay jeff jeffrey jeremy jerome jerry jesse jesus jim jimmy joe joel john johnny
jon jonathan jordan jorge jose joseph josh joshua juan julian justin karl keith kelvin ken kenneth kevin kirk
kurt kyle lance larry lawrence lee leo leon leonard leroy lewis lindsey lloyd logan lonnie louis lucas luis luke
malcolm manuel marc marco marcus mario mark marshall martin marvin mason matt matthew maurice max maxwell melvin
michael miguel mike mikhail miles mitch mitchell mohammed muhammad nathan nathaniel neil nelson nicholas nick
nicolas noah norman oliver omar oscar owen pablo patrick paul pedro pete peter phil philip phillip pierre rafael
ralph ramon randall randy raul ray raymond reggie ricardo richard rick ricky rob robert roberto rod rodney roger
roland ron ronald ross roy ruben rudy russell ryan salvador sam samuel scott sean sergei sergey seth shane shawn
sidney simon spencer stanley stephen steve steven stuart ted terry thomas tim timothy todd tom tommy tony travis
trevor troy tyler vernon victor vincent vladimir volodymyr walter warren wayne wesley will william willie xavier
zachary zack zohran keir emmanuel friedrich olaf justin benjamin recep narendra xi viktor petteri jens
""".split())


def gender(name: str) -> str | None:
    """'f', 'm' or None for a person's name, by its first word ('Erika McEntarfer' -> 'f')."""
    first = "".join(c for c in unicodedata.normalize("NFKD", name.split()[0].lower()) if not unicodedata.combining(c))
    female, male = first in FEMALE, first in MALE
    if female == male:
        return None
    return "f" if female else "m"


def fits(pronoun: str, name: str) -> bool:
    """Can `pronoun` (he/him/his, she/her/hers) stand for `name`? Unknown names fit either."""
    g = gender(name)
    want = "f" if pronoun.lower() in {"she", "her", "hers", "herself"} else "m"
    return g is None or g == want
