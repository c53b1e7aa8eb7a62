print("musicstream")
