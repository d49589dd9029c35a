#!/usr/bin/env python3
"""Identity merging: one person seen through a shop's many doors becomes one profile.

A guest checkout with an email, a member sign-up, a LINE follow with a
phone typed another way, a POS card: the records are observed one by one
as they arrive (merges are printed as events, so an application can re-key
its tables), then a family sharing an email shows the over-merge guard,
explain() tells why two records are (or are not) one customer, the graph
is saved to bytes and loaded back, and a deletion request splits a profile.

Run: CRM_LIBRARY=build/libcrm.so.1 PYTHONPATH=bindings/python \
     python3 bindings/python/examples/identity_merging.py
"""
import crm

records = [  # (source id, when, identifiers) as the shop's systems see them
    (5001, "2024-04-01T10:00+09:00", {"email": "Taro.Yamada@Docomo.ne.jp"}),                 # guest order
    (5002, "2024-04-03T21:15+09:00", {"member_id": "M-0001", "phone": "090-1234-5678"}),      # sign-up
    (5003, "2024-04-05T12:00+09:00", {"email": "taro.yamada@docomo.ne.jp",
                                      "phone": "０９０（１２３４）５６７８"}),                        # order by the member
    (5004, "2024-04-09T08:30+09:00", {"line_id": "U1a2b3c", "phone": "+81 90-1234-5678"}),    # LINE follow
    (6001, "2024-04-10T09:00+09:00", {"member_id": "M-0002", "email": "yamada.family@gmail.com"}),
    (6002, "2024-04-11T19:00+09:00", {"member_id": "M-0003", "email": "yamada.family@gmail.com"}),
]

with crm.Context() as ctx:
    idn = crm.Identity(ctx, on_event=lambda e: print(
        f"    event {e.event.name.lower()}: profile {e.profile} other {e.other}"
        + (f" value {e.value}" if e.value else "")))
    # most personal first: on a conflict the lower-ranked link is refused
    idn.add_kind("member_id", limit=1)                        # one member id per person
    idn.add_kind("line_id", limit=1)
    idn.add_kind("phone", crm.Normalizer.PHONE_JP, limit=3)
    idn.add_kind("email", crm.Normalizer.EMAIL, limit=5)      # households share emails

    for source, when, identifiers in records:
        profile = idn.observe(source, crm.parse_time(when), identifiers)
        print(f"record {source} -> profile {profile}")

    sources, profiles = idn.counts()
    print(f"{sources} records, {profiles} customers: {idn.mapping()}")
    kind_names = {idn.kind(name): name for name in ("member_id", "email", "phone", "line_id")}
    for kind, value in idn.profile_values(5001):
        print(f"  profile 5001 {kind_names[kind]}: {value}")
    print("phone 09012345678 belongs to profile", idn.lookup("phone", "09012345678"))

    for a, b in ((5001, 5004), (6001, 6002)):
        why = idn.explain(a, b)
        print(f"why {a} and {b} {'are' if why.linked else 'are not'} one customer:")
        for step in why.steps:
            verdict = "linked" if step.linked else f"refused ({step.reason.name.lower()})"
            print(f"  {step.from_source} - {step.to_source} share {kind_names[step.kind]}"
                  f" {step.value}: {verdict}")

    saved = idn.save()
    restored = crm.Identity.load(ctx, saved)
    print(f"saved {len(saved)} bytes; the restored graph agrees: "
          f"{restored.mapping() == idn.mapping()}")

    print("deletion request for record 5003:")
    idn.forget_source(5003)
    print(f"  now {idn.counts()[1]} customers: {idn.mapping()}")
