from vidanon.cli import main

raise SystemExit(main())
