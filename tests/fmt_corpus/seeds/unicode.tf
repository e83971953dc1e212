locals {
  ä = "ünïcödé"
  日本 = "語"
  emoji = "😀 👍🏽"
  combining = "é"
  long_name_here = "x"
  cjk_key_名前 = 1
}
