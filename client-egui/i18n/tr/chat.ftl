# Açık sohbet: başlık, mesajlar, mesaj yazma alanı, ekler, görsel görüntüleyici.

chat-untitled = sohbet
chat-delete-question = Bu mesaj herkesten silinsin mi?
chat-delete-detail = Mesaj bu sohbetteki tüm cihazlardan kaldırılır.
chat-e2e-note = Bu sohbetteki mesajlar uçtan uca şifrelidir.

## Mesaj balonu

chat-earlier-message = önceki bir mesaj
chat-deleted = (silindi)
chat-unsupported = (desteklenmeyen mesaj — kovan'ı güncelleyin)
chat-body-image = [görsel { $name }] { $caption }
chat-body-voice = [sesli mesaj { $name }] { $caption }
chat-body-poll = [anket] { $text }
chat-location = Konum
chat-open-image = Aç: { $name }
chat-full-size = Tam boyut
chat-edited = düzenlendi
chat-tick-seen = ✔✔ görüldü
chat-reply = Yanıtla
chat-message-info = Mesaj bilgisi
chat-edit = Düzenle
chat-delete-for-everyone = Herkesten sil
chat-react = { $emoji } ile tepki ver
chat-more-reactions = Diğer tepkiler…
chat-reacted = Tepki verenler
chat-react-with = Tepki seçin

## Mesaj bilgisi

chat-nobody-else = Bu sohbette başka kimse yok.
chat-close-info = Bilgiyi kapat
chat-read-delivered = Okundu: { $read } · iletildi: { $delivered }
chat-read = Okundu: { $read }
chat-delivered-not-read = İletildi: { $delivered }, henüz okunmadı
chat-not-delivered = Henüz iletilmedi

## Mesaj yazma alanı

chat-replying-to = Yanıtlanan: { $text }
chat-cancel-reply = Yanıtı iptal et
chat-extras = Dosya ekle, konum, anket, sonra gönder
chat-emoji = Emoji
chat-message = Mesaj
chat-message-hint = Bir mesaj yazın; :kısakodlar: emojiye dönüşür
chat-save-edit = Düzenlemeyi kaydet
chat-send = Gönder
chat-complete = :{ $code }: ile tamamla
chat-file-path = Dosya yolu
chat-attach-file = Dosya ekle
chat-attach-image = Görsel ekle

## Konumlar

chat-latitude = Enlem
chat-longitude = Boylam
chat-place-name = Yer adı
chat-coordinates-hint = Enlem −90…90, boylam −180…180 arasında, derece cinsinden olmalı.
chat-share-location = Konum paylaş
chat-live-for = Canlı süre
chat-share-live-location = Canlı konum paylaş
chat-live-duration = Canlı paylaşım 1 dakika ile 24 saat arasında sürebilir
chat-open-in-map = Harita uygulamasında aç
chat-live-until = Canlı, bitiş: { $until } · son güncelleme: { $updated }
chat-move-location = Yazılan konuma taşı
chat-stop-sharing = Paylaşımı durdur
chat-live-stopped = Canlı konum durduruldu
chat-live-ended = Canlı konum sona erdi

## Anketler

chat-poll-question = Anket sorusu
chat-multiple-choice = Çoklu seçim
chat-poll-options = Anket seçenekleri
chat-poll-options-hint = her satıra bir seçenek
chat-start-poll = Anket başlat
chat-poll-closed = Anket kapandı
chat-close-poll = Anketi kapat
chat-locked-text = Kilitli mesaj
chat-locked-password = Parola
chat-locked-area = Alan
chat-locked-area-hint = enlem, boylam, metre olarak yarıçap
chat-locked-hint = İpucu
chat-send-locked = Kilitli gönder
chat-locked-area-note = Alanı yalnızca alıcının uygulaması denetler: konumu onun beyanıdır.
chat-waits-password = bir parola
chat-waits-area = bir alanın içinde olmak
chat-locked-waits = 🔒 Şu olana dek mühürlü: { $what }
chat-locked-opened = 🔓 Açıldı ({ $what })
chat-locked-hint-shown = İpucu: { $hint }
chat-locked-area-shown = Alan: { $lat }, { $lon } noktasının { $radius } m çevresi
chat-locked-here = Bulunduğunuz yer (enlem, boylam)
chat-open-locked = Aç
chat-locked-members = Onay verecek üyeler
chat-locked-members-hint = adlar, virgülle ayrılmış
chat-locked-members-needed = Kaç kişi
chat-waits-members = { $holders } üyeden { $needed } tanesinin onayı
chat-locked-members-shown = Şu ana dek onay ({ $count }, gereken { $needed }): { $agreed }
chat-agree-to-open = Açılmasına onay ver
chat-you-agreed = ✔ Onay verdiniz
chat-locked-in-hours = Kendiliğinden açılma (saat sonra)
chat-locked-silent-days = Şu kadar gün sessiz kalırsam
chat-locked-opens-by-itself = Uygulamaları onu { $when } tarihinde kendiliğinden açar
chat-locked-check-in-by = { $when } tarihinden önce yoklama verin, yoksa açılır
chat-check-in = Buradayım (yoklama ver)
chat-verifiable-poll = Doğrulanabilir
chat-verifiable-poll-hint = Bugünkü üyeler oy verir; her biri imzalı tek bir oy kullanır ve her üye oyları ve sonucu denetleyebilir.
chat-cast-ballot = Oyu gönder
chat-poll-verified = ✔ Doğrulandı
chat-poll-not-checked = ? Bu cihazda denetlenemedi
chat-poll-does-not-hold = ⚠ Sonuç tutmuyor
chat-poll-check-details = Neler denetlendi
chat-poll-eligible = Oy verebilecek { $eligible } üyeden { $counted } oy sayıldı
chat-poll-eligibility-checked = Anket geldiğinde seçmen listesi grupla eşleşti.
chat-poll-eligibility-unchecked = Anket grup değiştikten sonra geldi; bu cihaz seçmen listesini denetleyemedi.
chat-poll-eligibility-failed = Seçmen listesi grupla eşleşmiyor: biri anketle oynamış.
chat-poll-not-eligible = Anket açıldığında üye değildiniz, bu yüzden oy veremezsiniz.
chat-poll-finding-bad-signature = { $who }: imzası doğrulanmayan bir oy (sayılmadı)
chat-poll-finding-not-eligible = { $who }: oy hakkı olmayan birinden bir oy (sayılmadı)
chat-poll-finding-unfit = { $who }: ankette olmayan seçenekler içeren bir oy (sayılmadı)
chat-poll-finding-double-vote = { $who }: iki kez oy verdi, iki oy da geçersiz
chat-poll-finding-dropped = { $who }: kapanışta bu üyenin oyu yok
chat-poll-finding-altered = { $who }: kapanış bu üyenin gönderdiğinden farklı bir oy sayıyor
chat-poll-finding-bad-close = { $who }: kapanış geçerli olmayan bir oy sayıyor
chat-poll-finding-bad-ring = { $who }: seçmen halkası bu üyenin imzalı kaydı olmayan bir anahtar içeriyor ya da bu üyeye başka bir halka gösterildi
chat-poll-finding-left-out = { $who }: seçmen halkası bu üyenin kaydını dışarıda bırakıyor
chat-poll-finding-not-received = { $who }: kapanış bu cihaza hiç ulaşmamış bir oyu sayıyor ya da geçersiz kılıyor
chat-poll-ring-unconfirmed = { $count } seçmen aynı seçmen halkasını tuttuğunu henüz doğrulamadı: herkes doğrulayınca oy vermek en güvenlisi
chat-poll-finding-registered-twice = { $who }: iki oy anahtarı kaydetti (halka bunlardan birini tutuyor)
chat-poll-not-in-ring = Oy anahtarınız seçmen halkasında değil, bu yüzden oy veremezsiniz.
chat-poll-anonymous-registering = 🕶 Gizli: { $eligible } seçmenden { $registered } kayıt oldu; herkes kayıt olunca oylama açılır
chat-poll-anonymous-ring = 🕶 Gizli: oylar { $ring } seçmen arasında sayılır ve kimseyi ele vermez
chat-poll-open-voting = Oylamayı şimdi aç
chat-poll-open-voting-hint = Oylama şimdiye dek kayıt olanlara açılır; ötekiler bu ankette oy veremez.
chat-anonymous-poll = Gizli oy
chat-anonymous-poll-hint = Oyların kimin verdiğini söylemediği doğrulanabilir bir anket (en az 3 seçmenli bir grup). Oylar röle posta kutularından geçer.

## Sonra gönder

chat-send-at = Gönderim zamanı
chat-send-at-hint = +10m, +2h veya 2026-12-31 23:59
chat-save-scheduled = Planlananı kaydet
chat-stop-editing = Düzenlemeyi bırak
chat-schedule = Planla
chat-bad-time = kovan bu zamanı anlayamadı ya da zaman geçti
chat-scheduled-poll = anket: { $question }
chat-scheduled-for = { $time } için planlandı: { $what }
chat-edit-scheduled = Planlananı düzenle
chat-cancel-scheduled = Planlananı iptal et

## Sesli mesajlar

chat-recording-failed = Kayıt başarısız oldu: { $error }
chat-playing-failed = Oynatma başarısız oldu: { $error }
chat-recording = Kaydediliyor { $time }
chat-stop-and-send = Durdur ve gönder
chat-discard-recording = Kaydı sil
chat-record-voice-note = Sesli mesaj kaydet
chat-record-voice-note-hover = Bir sesli mesaj kaydedin
chat-stop-playing = Oynatmayı durdur
chat-playing = Oynatılıyor { $at } / { $all } sn
chat-play = Oynat: { $name }
chat-voice-length = { $secs } sn

## Görsel görüntüleyici

chat-image-failed = Bu görsel gösterilemedi.
chat-image = Görsel
chat-image-alt = Görsel, tam boyut
chat-image-preview = Bu bir önizleme; tam boyutunu görmek için görseli indirin.
chat-close-image = Görseli kapat
chat-search-label = Sohbette ara
chat-search-hint = Kelimeler, bir dosya adı, bir anket…
chat-search-button = Bul
chat-search-close = Aramayı kapat
chat-search-none = Burada “{ $query }” geçen bir mesaj yok.
chat-search-count = { $n } mesaj
chat-search-hit = { $who }: { $text } · { $when }
chat-open-failed = Masaüstü bunu açamadı: { $error }
chat-choose-file = Seç…
chat-copy = Metni kopyala
chat-forward = İlet…
chat-forward-title = Şuraya ilet
chat-forward-to = İlet: { $name }
chat-forward-cancel = İletmekten vazgeç
chat-pick-time = Gün ve saat:
chat-pick-hour = Saat
chat-pick-minute = Dakika
chat-in-an-hour = Bir saat sonra
chat-tomorrow-morning = Yarın 09:00
chat-find-place = Bir yer bul
chat-find-place-hint = Bir şehir ya da ilçe, ör. Kadıköy
chat-no-place = Bu adda bir yer yok; haritaya tıklayın ya da koordinat yazın.
chat-map = Harita: yer seçmek için tıklayın, kaydırmak için sürükleyin, yakınlaştırmak için tekerleği çevirin
chat-typing-one = { $name } yazıyor…
chat-typing-two = { $a } ve { $b } yazıyor…
chat-typing-many = { $n } kişi yazıyor…
chat-locked-file = Dosya: { $name }
chat-locked-file-remove = Kaldır
chat-locked-file-choose = Onunla bir dosya mühürle…
chat-locked-file-sealed = 📎 Mühürlü bir dosya ({ $size }): ne olduğu mesaj açılınca görünür
chat-locked-file-waiting = 📎 { $name } ({ $size }) baytları gelince açılır
chat-locked-file-opening = 📎 { $name }: açılıyor…
chat-locked-file-open = 📎 { $name } ({ $size })
chat-locked-file-failed = 📎 { $name } açılmadı: { $why }
chat-locked-file-fetch = Mühürlü dosyayı indir
chat-sealed-poll = Kapanana dek mühürlü
chat-sealed-poll-hint = Oyları siz kapatana dek mühürlü kalan doğrulanabilir bir anket: siz dahil kimse önceden bir seçimi görmez; sonra her seçmenin uygulaması seçimini açar.
chat-poll-sealed-until-close = 🔒 { $counted } mühürlü oy: seçimler anket kapanınca görünür
chat-poll-sealed-revealed = 🔓 Oylar açıldı; { $hidden } oy henüz açılmadı
chat-locked-relays = Anahtarı tutan röleler
chat-locked-relays-hint = röle adresleri ya da "mine", virgülle
chat-locked-relays-needed = Kaçı bırakmalı
chat-locked-relays-note = Röleler paylarını zamanı gelince ya da sen sessiz kalınca kendi saatlerine göre kendiliğinden bırakır; gerekenden azı hiçbir şey öğrenmez ve hiçbiri mesajı görmez.
chat-waits-relays = { $relays } röleden { $needed } tanesinin bırakması
chat-locked-relays-shown = Bırakan röleler: gereken { $needed } paydan { $count } ({ $relays } röle pay tutuyor)
chat-locked-relays-not-before = En erken { $when }
chat-locked-relays-next = Rölelere yeniden { $when } sorulacak
chat-locked-relays-cancelled = Gönderen iptal etti: açılmayacak
chat-locked-relays-failed = Röleler payları hiç bırakmadı
