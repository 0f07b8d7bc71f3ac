# Onay (widgets/confirm.rs)
widgets-confirm = Onayla
widgets-cancel = İptal

# Mesajdaki dosya (widgets/file_line.rs)
widgets-file-cancel = İptal et: { $name }
widgets-file-download = İndir: { $name }
widgets-file-saved = { $size }, kaydedildi
widgets-file-via-call = aramadan geldi
widgets-file-via-link = veri bağlantısıyla geldi
widgets-file-ready = { $size }, hazır
widgets-file-cancelled = { $size }, iptal edildi
widgets-file-failed = { $size }, başarısız

# Boyutlar ve günler (widgets/format.rs); KB, MB, GB olduğu gibi kalır
widgets-bytes = { $n } bayt
widgets-today = Bugün
widgets-yesterday = Dün

# Çevrimiçi durumu (widgets/presence.rs)
widgets-online = { $name } çevrimiçi
widgets-offline = { $name } çevrimdışı
widgets-last-seen = { $name } son görülme { $time }

# Emoji seçici (emoji.rs)
widgets-emoji-find = Emoji ara
widgets-emoji-recent = Son kullanılanlar
widgets-emoji-smileys = İfadeler
widgets-emoji-people = İnsanlar
widgets-emoji-nature = Doğa
widgets-emoji-food = Yiyecek
widgets-emoji-travel = Seyahat
widgets-emoji-activities = Etkinlik
widgets-emoji-objects = Nesneler
widgets-emoji-symbols = Semboller
widgets-emoji-flags = Bayraklar
widgets-file-open = Aç
widgets-file-reveal = Klasörde göster
widgets-file-save-as = Bir kopyasını kaydet…
