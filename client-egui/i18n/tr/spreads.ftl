# Yayılanlar sekmesi (screens/spreads.rs)
spreads-take-part = Yayılan mesajlara katıl
spreads-explain = Yayılan mesaj, yazarının imzaladığı bir metindir. Katılan arkadaşlar onu gördükten sonra kendi arkadaşlarına iletir; yazarın seçtiği adım sayısından uzağa gitmez. Ulaştığı herkes yazarını kanıtlayabilir.
spreads-friends = { $n ->
    [one] 1 arkadaş katılıyor
   *[other] { $n } arkadaş katılıyor
}
spreads-compose = Yeni yayılan mesaj
spreads-compose-hint = Yayılacak bir mesaj yazın
spreads-hops = adım
spreads-send = Yay
spreads-none = Henüz yayılan mesaj yok.
spreads-by-you = Sizden · en çok { $limit } adım · { $n } kişiye gönderildi
spreads-by = { $name } yazdı · adım { $hop } / { $limit }
spreads-from = Size ileten: { $name }
spreads-taken-back = Yazarı geri aldı.
spreads-retract = Geri al
spreads-notify-title = Yayılan mesaj
spreads-notify-body = { $name } tarafından yazılan bir mesaj size ulaştı
spreads-action-reading = Yayılan mesajlar okunamadı
spreads-action-spreading = Mesaj yayılamadı
spreads-action-passing-on = Yayılan mesajlar iletilemedi
spreads-action-taking-back = Mesaj geri alınamadı
spreads-action-changing = Katılım değiştirilemedi
