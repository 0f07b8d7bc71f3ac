## People tab: friends, requests, blocked accounts

people-friends = Arkadaşlar
people-avatar-of = Profil fotoğrafı: { $name }
people-name-verified = { $name } ✔ doğrulandı
people-identity-changed = kimlik değişti
people-safety-number = { $name } için güvenlik numarası
people-direct-only-chat = { $name } ile yalnızca doğrudan sohbet
people-no-trace-chat = { $name } ile iz bırakmayan sohbet
people-unfriend = Arkadaşlıktan çıkar: { $name }
people-unfriend-question = { $name } arkadaşlıktan çıkarılsın mı?
people-unfriend-detail = Onunla sohbetiniz sona erer; ikinizden biri daha sonra yeniden istek gönderebilir.
people-block = Engelle: { $name }
people-block-question = { $name } engellensin mi?
people-block-detail = Engelini kaldırana kadar gönderdiği hiçbir şey size ulaşmaz.
people-mark-verified = Doğrulandı olarak işaretle: { $name }
people-friend-requests = Arkadaşlık istekleri
people-accept = Kabul et: { $name }
people-decline = Reddet: { $name }
people-request-sent = { $name }: istek gönderildi
people-blocked = Engellenenler
people-unblock = Engeli kaldır: { $name }

## People tab: search

people-search-people = Kişi ara
people-send-friend-request = Arkadaşlık isteği gönder
people-search = Ara
people-searching = “{ $query }” aranıyor…
people-no-one-found = “{ $query }” için kimse bulunamadı. Yazımı kontrol edin ya da davet bağlantısını isteyin.
people-found-on-relay = { $name } (röle)
people-found-on-lan = { $name } (yerel ağ)
people-add = Ekle: { $name }

## People tab: the relay account form

people-relay-account = Röle hesabı
people-username = Kullanıcı adı
people-password = Parola
people-choose-username-password = Bir kullanıcı adı ve en az 8 karakterlik bir parola seçin.
people-password-too-short = Parola en az 8 karakter olmalı.
people-sign-up = Kaydol
people-log-in = Giriş yap
people-sign-up-or-log-in = Kaydol yeni bir hesap oluşturur; Giriş yap var olan hesabınızı kullanır.
people-safety-title = { $name } ile güvenlik numarası
people-safety-explain = { $name } ile sohbetiniz uçtan uca şifreli. Araya kimsenin girmediğinden emin olmak için bu numarayı yüz yüze ya da bir aramada { $name } kişisinin numarasıyla karşılaştırın: yalnızca doğrudan birbirinizle konuşuyorsanız iki tarafta da aynıdır.
people-safety-qr = QR kodu olarak güvenlik numarası
people-safety-verified = { $name } kişisini doğruladınız. Numarası bir gün değişirse kovan size söyler.
people-safety-paste-explain = Ya da { $name } kişisinin size başka bir yoldan gönderdiği numarayı yapıştırın:
people-safety-paste = Onun numarası
people-safety-check = Denetle ve doğrulandı olarak işaretle
people-safety-close = Kapat
