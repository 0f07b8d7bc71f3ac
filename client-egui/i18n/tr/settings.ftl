## Settings tab: data directory, relay, account key

settings-data-directory = Veri klasörü: { $path }
settings-relay = Röle: { $relay }
settings-relay-from-config = kovan.toml dosyasından
settings-account-key = Hesap anahtarı: { $key }…
settings-sign-in-first = Röle ayarlarını değiştirmek için Kişiler sekmesinden kaydolun ya da giriş yapın.
settings-relay-address = Röle adresi
settings-use-this-relay = Bu röleyi kullan
settings-relay-address-scheme = Röle adresi http:// veya https:// ile başlar

## Settings tab: profile and privacy

settings-your-avatar = Profil fotoğrafınız
settings-avatar-image = Profil fotoğrafı dosyası
settings-set-avatar = Profil fotoğrafını ayarla
settings-remove-avatar = Profil fotoğrafını kaldır
settings-display-name = Görünen ad
settings-about = Hakkında
settings-discoverable = Aramada bulunabilir ol
settings-read-receipts = Okundu bilgisi gönder
settings-friend-policy = Size kimler arkadaşlık isteği gönderebilir
settings-policy-everyone = Herkes
settings-policy-link = Yalnızca davet bağlantıma sahip olanlar
settings-policy-nobody = Hiç kimse

## Settings tab: invite links

settings-invite-links = Davet bağlantıları
settings-invite-links-detail = Bağlantılarınızdan birine sahip olan herkes size arkadaşlık isteği gönderebilir.
settings-invite-name = Bağlantı adı
settings-invite-name-hint = isteğe bağlı
settings-invite-uses = Kullanım
settings-invite-uses-hint = sınırsız
settings-invite-expires = Geçerlilik süresi
settings-invite-expires-hint = süresiz ya da 1d, 12h
settings-invite-uses-invalid = Kullanım 1 veya daha büyük bir tam sayı olmalı; sınırsız için boş bırakın.
settings-invite-expires-invalid = Geçerlilik süresi 30m, 12h ya da 7d gibi bir süre olmalı; süresiz için boş bırakın.
settings-create-invite-link = Davet bağlantısı oluştur
settings-invite-link = Davet bağlantısı
settings-copy-invite = Kopyala: { $name }
settings-revoke-invite = İptal et: { $name }
settings-invite-used-of = { $used }/{ $max } kez kullanıldı
settings-invite-used-times = { $used } kez kullanıldı
settings-invite-revoked = İptal edildi · { $used }
settings-invite-expired = Süresi doldu · { $used }
settings-invite-used-up = Kullanım hakkı doldu · { $used }
settings-invite-active = Etkin · { $used }
settings-invite-active-until = Etkin · { $used } · { $day } { $time } tarihine kadar

## Settings tab: sessions

settings-sessions = Oturumlar
settings-session = { $device } · son kullanım { $day } { $time }
settings-session-this-one = { $device } · son kullanım { $day } { $time } (bu oturum)
settings-revoke-session = Sonlandır: { $id }

## Settings tab: password, log out, account deletion

settings-current-password = Mevcut parola
settings-new-password = Yeni parola
settings-change-password = Parolayı değiştir
settings-log-out = Çıkış yap
settings-delete-account = Hesabı sil
settings-delete-account-detail = Bu işlem röle hesabınızı, posta kutusunu ve dosyalarını siler. Parolanızı yazın:
settings-password-to-delete = Silmek için parola
settings-delete-my-account = Hesabımı sil
settings-appearance = Bu pencere
settings-theme = Tema:
settings-theme-system = Sistem
settings-theme-light = Açık
settings-theme-dark = Koyu
settings-language = Dil:
settings-language-system = Sistem
settings-notifications = Mesajlar, istekler ve davetler için masaüstü bildirimleri
settings-notify-name-and-message = Göndereni ve mesajı göster
settings-notify-name-only = Yalnızca göndereni göster
settings-notify-nothing = Yalnızca bir şey geldiğini göster
settings-choose-image = Seç…
settings-typing-indicators = Yazıyor göstergesi (benimkini gönder, başkalarınınkini göster)

settings-sound = Ses
settings-microphone = Mikrofon
settings-speaker = Hoparlör
settings-sound-default = Sistemin varsayılanı
settings-sound-missing = { $device } (bağlı değil: varsayılan kullanılıyor)
settings-sound-look-again = Aygıtları yeniden ara
